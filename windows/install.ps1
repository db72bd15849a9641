<#
.SYNOPSIS
  Installs (or with -Uninstall removes) the vssorch VSS hardware provider on Windows Server.

.DESCRIPTION
  1. `vssorch serve` as the Windows service "vssorch" (automatic start) through NSSM, a
     service wrapper for console programs (https://nssm.cc): it runs long before VSS
     loads the provider.
  2. The provider's settings under HKLM\SOFTWARE\vssorch\Provider (service URL, token
     file, timeouts, log file) and the "vssorch" event source.
  3. The DLL's COM registration (regsvr32 -> DllRegisterServer).
  4. The COM+ server application VSS requires for a hardware provider, running as
     LocalSystem, with the component imported and access limited to Administrators and
     SYSTEM; its service depends on "vssorch".
  5. The registration with VSS (IVssAdmin::RegisterProvider through the DLL's
     VssRegister export: hardware provider, fixed provider id and version), checked with
     `vssadmin list providers`.
  Run from an elevated PowerShell. This script is not run by the project's tests (no
  Windows there); docs/SERVICE.md has the review checklist.

.EXAMPLE
  .\install.ps1 -Dll C:\vssorch\vssorch_provider.dll -HostName WIN-HOST1
  .\install.ps1 -Uninstall
#>
param(
    [string]$Dll = (Join-Path $PSScriptRoot 'vssorch_provider.dll'),
    [string]$Config = (Join-Path $env:ProgramData 'vssorch\config.yaml'),
    [string]$StateDir = (Join-Path $env:ProgramData 'vssorch\state'),
    [string]$Listen = '127.0.0.1:5990',
    [string]$HostName = '',
    [string]$Vssorch = 'vssorch.exe',
    [string]$Nssm = 'nssm.exe',
    [switch]$Uninstall
)
$ErrorActionPreference = 'Stop'
$ProviderId = '{d90dd826-87cf-42ce-a88d-b32caa82025b}'
$AppName = 'vssorchProvider'
$SettingsKey = 'HKLM:\SOFTWARE\vssorch\Provider'
$Dll = (Resolve-Path $Dll).Path

function Invoke-Checked([string]$exe, [string[]]$arguments) {
    # Start-Process -Wait: PowerShell does not wait for GUI programs (regsvr32, rundll32) otherwise
    $p = Start-Process -FilePath $exe -ArgumentList $arguments -Wait -PassThru -NoNewWindow
    if ($p.ExitCode -ne 0) { throw "$exe $($arguments -join ' ') failed with exit code $($p.ExitCode)" }
}

function Remove-ComPlusApp($catalog) {
    try { $catalog.DeleteServiceForApplication($AppName) } catch { }   # none yet: nothing to delete
    $apps = $catalog.GetCollection('Applications')
    $apps.Populate()
    for ($i = $apps.Count - 1; $i -ge 0; $i--) {
        if ($apps.Item($i).Value('Name') -eq $AppName) { $apps.Remove($i) }
    }
    [void]$apps.SaveChanges()
}

$catalog = New-Object -ComObject COMAdmin.COMAdminCatalog

if ($Uninstall) {
    Invoke-Checked rundll32.exe @("`"$Dll`",VssRegister", '-u')
    Remove-ComPlusApp $catalog
    Invoke-Checked regsvr32.exe @('/s', '/u', "`"$Dll`"")
    & $Nssm stop vssorch
    & $Nssm remove vssorch confirm
    Remove-Item -Path 'HKLM:\SOFTWARE\vssorch' -Recurse -ErrorAction SilentlyContinue
    Write-Output 'vssorch provider removed'
    return
}

# 1. the service VSS's provider forwards to
$serve = @('serve', '--config', $Config, '--listen', $Listen)
if ($HostName) { $serve += @('--host-name', $HostName) }
Invoke-Checked $Nssm (@('install', 'vssorch', (Get-Command $Vssorch).Source) + $serve)
Invoke-Checked $Nssm @('set', 'vssorch', 'Start', 'SERVICE_AUTO_START')
Invoke-Checked $Nssm @('set', 'vssorch', 'AppStderr', (Join-Path $env:ProgramData 'vssorch\serve.log'))
Invoke-Checked $Nssm @('start', 'vssorch')

# 2. the provider's settings (client.h reads them) and its event source
New-Item -Path $SettingsKey -Force | Out-Null
Set-ItemProperty $SettingsKey ServiceUrl "http://$Listen"
Set-ItemProperty $SettingsKey TokenFile (Join-Path $StateDir 'service.token')
Set-ItemProperty $SettingsKey TimeoutMs '120000'
Set-ItemProperty $SettingsKey CommitTimeoutMs '8000'
Set-ItemProperty $SettingsKey LogFile (Join-Path $env:ProgramData 'vssorch\provider.log')
if (-not [System.Diagnostics.EventLog]::SourceExists('vssorch')) { New-EventLog -LogName Application -Source vssorch }

# 3. COM registration
Invoke-Checked regsvr32.exe @('/s', "`"$Dll`"")

# 4. the COM+ server application, as LocalSystem, Administrators and SYSTEM only
Remove-ComPlusApp $catalog
$apps = $catalog.GetCollection('Applications')
$apps.Populate()
$app = $apps.Add()
$app.Value('Name') = $AppName
$app.Value('Description') = 'vssorch VSS hardware provider'
$app.Value('Activation') = 1                      # server application (dllhost)
$app.Value('ApplicationAccessChecksEnabled') = $true
$app.Value('AccessChecksLevel') = 0               # process level: members of its roles only
$app.Value('Authentication') = 6                  # packet privacy
$app.Value('ImpersonationLevel') = 3              # impersonate
[void]$apps.SaveChanges()
$catalog.CreateServiceForApplication($AppName, $AppName, 'SERVICE_DEMAND_START', 'SERVICE_ERROR_NORMAL',
    'vssorch', '.\localsystem', '', $false)
$catalog.ImportComponent($AppName, '{D9D0F1A9-07C5-4648-BE40-85733796215D}')   # registered by step 3
$roles = $apps.GetCollection('Roles', $app.Key)
$roles.Populate()
$role = $roles.Add()
$role.Value('Name') = 'Administrators'
[void]$roles.SaveChanges()
$users = $roles.GetCollection('UsersInRole', $role.Key)
$users.Populate()
foreach ($account in 'BUILTIN\Administrators', 'NT AUTHORITY\SYSTEM') {
    $user = $users.Add()
    $user.Value('User') = $account
}
[void]$users.SaveChanges()

# 5. the provider, with VSS
Invoke-Checked rundll32.exe @("`"$Dll`",VssRegister")   # its outcome: the event log (rundll32 exits 0)
if (-not ((vssadmin list providers) -match [regex]::Escape($ProviderId.Trim('{}')))) {
    throw "VSS does not list provider ${ProviderId}: see the Application event log (source vssorch)"
}
Write-Output "vssorch provider $ProviderId installed"
