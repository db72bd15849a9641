// The DLL's entry points: the class factory, COM self-registration, and VssRegister, the
// helper windows/install.ps1 runs through rundll32 to register the provider with VSS
// (IVssAdmin::RegisterProvider: provider type hardware, fixed provider id and version).
#include <windows.h>
#include <objbase.h>
#include <vsadmin.h>
#include <vss.h>

#include <new>
#include <string>

#include "client.h"
#include "lun.h"
#include "provider.h"

using namespace vssorch;

namespace {

HMODULE g_module = nullptr;

// CLSID_VSSCoordinator (Microsoft's vsadmin.h; not declared by mingw-w64)
const CLSID kVssCoordinator = {0xe579ab5f, 0x1cc4, 0x44b4, {0xbe, 0xd9, 0xde, 0x09, 0x91, 0xff, 0x06, 0x23}};

class ClassFactory final : public IClassFactory {
public:
    STDMETHODIMP QueryInterface(REFIID riid, void **ppv) override {
        if (!ppv) return E_POINTER;
        if (riid != IID_IUnknown && riid != IID_IClassFactory) {
            *ppv = nullptr;
            return E_NOINTERFACE;
        }
        *ppv = static_cast<IClassFactory *>(this);
        AddRef();
        return S_OK;
    }
    // one static factory: its references count as server locks
    STDMETHODIMP_(ULONG) AddRef() override { return static_cast<ULONG>(InterlockedIncrement(&g_locks)); }
    STDMETHODIMP_(ULONG) Release() override { return static_cast<ULONG>(InterlockedDecrement(&g_locks)); }

    STDMETHODIMP CreateInstance(IUnknown *outer, REFIID riid, void **ppv) override {
        if (!ppv) return E_POINTER;
        *ppv = nullptr;
        if (outer) return CLASS_E_NOAGGREGATION;
        auto *p = new (std::nothrow) Provider();
        if (!p) return E_OUTOFMEMORY;
        HRESULT hr = p->QueryInterface(riid, ppv);
        p->Release();   // the caller's reference (if any) is the only one left
        return hr;
    }
    STDMETHODIMP LockServer(BOOL lock) override {
        if (lock) InterlockedIncrement(&g_locks);
        else InterlockedDecrement(&g_locks);
        return S_OK;
    }
};

ClassFactory g_factory;

std::wstring clsidKey() {
    wchar_t clsid[40];
    StringFromGUID2(CLSID_Provider, clsid, 40);
    return std::wstring(L"SOFTWARE\\Classes\\CLSID\\") + clsid;
}

LONG setString(HKEY root, const std::wstring &key, const wchar_t *name, const std::wstring &value) {
    return RegSetKeyValueW(root, key.c_str(), name, REG_SZ, value.c_str(),
                           static_cast<DWORD>((value.size() + 1) * sizeof(wchar_t)));
}

}  // namespace

extern "C" BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID) {
    if (reason == DLL_PROCESS_ATTACH) {
        g_module = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}

STDAPI DllGetClassObject(REFCLSID rclsid, REFIID riid, LPVOID *ppv) {
    if (!ppv) return E_POINTER;
    *ppv = nullptr;
    if (rclsid != CLSID_Provider) return CLASS_E_CLASSNOTAVAILABLE;
    return g_factory.QueryInterface(riid, ppv);
}

STDAPI DllCanUnloadNow() { return g_objects == 0 && g_locks == 0 ? S_OK : S_FALSE; }

// HKLM\SOFTWARE\Classes\CLSID\{clsid} = name, its InprocServer32 = this DLL (threading
// model Both: the object keeps no state, the service serialises per snapshot set).
STDAPI DllRegisterServer() {
    wchar_t path[MAX_PATH];
    DWORD n = GetModuleFileNameW(g_module, path, MAX_PATH);
    if (n == 0 || n == MAX_PATH) return HRESULT_FROM_WIN32(GetLastError());
    const std::wstring key = clsidKey();
    LONG r = setString(HKEY_LOCAL_MACHINE, key, nullptr, PROVIDER_NAME);
    if (r == ERROR_SUCCESS) r = setString(HKEY_LOCAL_MACHINE, key + L"\\InprocServer32", nullptr, path);
    if (r == ERROR_SUCCESS) r = setString(HKEY_LOCAL_MACHINE, key + L"\\InprocServer32", L"ThreadingModel", L"Both");
    return HRESULT_FROM_WIN32(r);
}

STDAPI DllUnregisterServer() {
    LONG r = RegDeleteTreeW(HKEY_LOCAL_MACHINE, clsidKey().c_str());
    return r == ERROR_SUCCESS || r == ERROR_FILE_NOT_FOUND ? S_OK : HRESULT_FROM_WIN32(r);
}

// rundll32 vssorch_provider.dll,VssRegister [-u]: (un)registers the provider with VSS.
// The outcome goes to the event log (rundll32 shows no exit code); install.ps1 checks
// `vssadmin list providers` afterwards.
extern "C" __declspec(dllexport) void CALLBACK VssRegisterW(HWND, HINSTANCE, LPWSTR cmdLine, int) {
    bool uninstall = cmdLine && wcsstr(cmdLine, L"-u");
    HRESULT hr = CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    if (FAILED(hr)) {
        reportEvent(EVENTLOG_ERROR_TYPE, "vssorch provider: CoInitializeEx failed");
        return;
    }
    IVssAdmin *admin = nullptr;
    hr = CoCreateInstance(kVssCoordinator, nullptr, CLSCTX_LOCAL_SERVER, IID_IVssAdmin, reinterpret_cast<void **>(&admin));
    if (SUCCEEDED(hr)) {
        hr = uninstall ? admin->UnregisterProvider(PROVIDER_ID)
                       : admin->RegisterProvider(PROVIDER_ID, CLSID_Provider, const_cast<VSS_PWSZ>(PROVIDER_NAME),
                                                 VSS_PROV_HARDWARE, const_cast<VSS_PWSZ>(PROVIDER_VERSION),
                                                 PROVIDER_VERSION_ID);
        admin->Release();
    }
    char code[16];
    wsprintfA(code, "0x%08lX", static_cast<unsigned long>(hr));
    reportEvent(FAILED(hr) ? EVENTLOG_ERROR_TYPE : EVENTLOG_INFORMATION_TYPE,
                std::string("vssorch provider: ") + (uninstall ? "unregistering " : "registering ") +
                    guidString(PROVIDER_ID) + " (hardware, version " + toUtf8(PROVIDER_VERSION) + ") with VSS: " + code);
    CoUninitialize();
}
