// The way to `vssorch serve`: `POST /v1/<Call>` over loopback HTTP with WinHTTP and the
// bearer token from the service's token file (docs/SERVICE.md).
//
// Settings, first found wins: the environment (VSSORCH_SERVICE_URL, VSSORCH_TOKEN_FILE,
// VSSORCH_TIMEOUT_MS, VSSORCH_COMMIT_TIMEOUT_MS, VSSORCH_PROVIDER_LOG), then the values
// ServiceUrl, TokenFile, TimeoutMs, CommitTimeoutMs, LogFile under
// HKLM\SOFTWARE\vssorch\Provider (windows/install.ps1 writes them), then the service's
// defaults: http://127.0.0.1:5990 and %ProgramData%\vssorch\state\service.token.
#pragma once

#include <windows.h>

#include <string>

#include "json.h"

namespace vssorch {

struct Settings {
    std::wstring host;            // a loopback address: the token never leaves the machine
    unsigned short port = 5990;
    std::wstring tokenFile;
    DWORD timeoutMs = 120000;     // EndPrepareSnapshots may take a while on a busy array
    DWORD commitTimeoutMs = 8000; // inside VSS's 10 s flush-and-hold window
    std::wstring logFile;         // empty: event log and debugger output only
    std::string problem;          // why the settings cannot be used; empty when fine
};

Settings loadSettings();

// Calls the service. Returns the service's `hresult` (the reply's "hr"), with the
// reply's "result" in `result`. A service that does not answer within the timeout, is
// not running, refuses the token or answers nonsense gives VSS_E_PROVIDER_VETO or
// VSS_E_UNEXPECTED_PROVIDER_ERROR, with an event-log message saying why.
HRESULT callService(const char *call, const Json &args, Json &result, bool commit = false);

// An event-log style message: the Application event log (source "vssorch"), the
// debugger output and, when configured, one line appended to the log file.
void reportEvent(WORD type, const std::string &message);

}  // namespace vssorch
