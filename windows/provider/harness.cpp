// vssprov_harness.exe: plays the VSS service against the provider DLL, for the tests
// under Wine (tests/windows/test_provider_wine.py). Prints one JSON line per call:
// {"method": ..., "hr": "0x........", "ms": ..., ...}.
//
//   vssprov_harness DLL scenario UID1 UID2 [--pause M1,M2,...]
//       load, class factory, QueryInterface for each interface, OnLoad, capabilities,
//       a transportable two-volume create, FillInLunInfo, LocateLuns (the import), a mask
//       (OnLunStateChange), OnLunEmpty, then a second set that is aborted, OnUnload,
//       release, unload check.
//       --pause M: before and after method M print {"pause": "before"|"after", "method": M}
//       and wait for a line on stdin (the test looks at the array meanwhile).
//   vssprov_harness DLL resync UID [--pause M,...]
//       a persistent one-volume create, then the LUN resync VSS does for a restore:
//       OnLunStateChange(PRE_RECOVERY), ResyncLuns and its IVssAsync, OnLunStateChange(POST_RECOVERY).
//   vssprov_harness DLL commit
//       only CommitSnapshots of a new set (the service-does-not-answer test).
//   vssprov_harness - roundtrip
//       each stdin line, a LunInfo JSON, converted to VDS_LUN_INFORMATION and back.
//
// Methods are called through the vtable slots of Microsoft's vsprov.h (not through
// mingw's declarations the DLL was compiled with), so a DLL whose vtable order differs
// from Microsoft's fails here.
#include <windows.h>
#include <objbase.h>
#include <vss.h>
#include <vsprov.h>
#include <vsserror.h>

#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "json.h"
#include "lun.h"

using namespace vssorch;

namespace {

// Slots in Microsoft's vsprov.h (0-2 are IUnknown).
enum HwSlot { AreLunsSupported = 3, FillInLunInfo, BeginPrepareSnapshot, GetTargetLuns, LocateLuns, OnLunEmpty,
              GetProviderCapabilities, OnLunStateChange, ResyncLuns, OnReuseLuns };
enum SetSlot { EndPrepareSnapshots = 3, PreCommitSnapshots, CommitSnapshots, PostCommitSnapshots,
               PreFinalCommitSnapshots, PostFinalCommitSnapshots, AbortSnapshots };
enum NotifySlot { OnLoad = 3, OnUnload };

template <typename... A>
HRESULT vcall(void *itf, int slot, A... args) {
    using Fn = HRESULT(STDMETHODCALLTYPE *)(void *, A...);
    return reinterpret_cast<Fn>((*static_cast<void ***>(itf))[slot])(itf, args...);
}

const CLSID kClsid = {0xd9d0f1a9, 0x07c5, 0x4648, {0xbe, 0x40, 0x85, 0x73, 0x37, 0x96, 0x21, 0x5d}};
const LONG kContext = VSS_VOLSNAP_ATTR_PERSISTENT | VSS_VOLSNAP_ATTR_NO_AUTO_RELEASE | VSS_VOLSNAP_ATTR_TRANSPORTABLE;

std::set<std::string> g_pause;
LARGE_INTEGER g_freq;

std::string hrText(HRESULT hr) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08lX", static_cast<unsigned long>(hr));
    return buf;
}

void print(const Json &line) {
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
}

void pause(const char *when, const std::string &method) {
    if (!g_pause.count(method)) return;
    print(Json::object().set("pause", when).set("method", method));
    char line[64];
    if (!std::fgets(line, sizeof line, stdin)) std::exit(3);
}

// Runs one call, prints its line; `extra` may add fields to it.
HRESULT step(const std::string &method, const std::function<HRESULT(Json &)> &fn) {
    pause("before", method);
    Json extra = Json::object();
    LARGE_INTEGER t0, t1;
    QueryPerformanceCounter(&t0);
    HRESULT hr = fn(extra);
    QueryPerformanceCounter(&t1);
    Json line = Json::object();
    line.set("method", method).set("hr", hrText(hr)).set("ms", static_cast<double>(t1.QuadPart - t0.QuadPart) * 1000.0 / g_freq.QuadPart);
    for (const auto &kv : extra.members()) line.set(kv.first, kv.second);
    print(line);
    pause("after", method);
    return hr;
}

// A source LUN as VSS would describe an SVC volume (every member CoTaskMemAlloc'ed).
VDS_LUN_INFORMATION sourceLun(const std::string &uid) {
    Json j = Json::object();
    j.set("vendor", "IBM").set("product", "2145").set("revision", "0000").set("serial", uid.substr(16))
        .set("bus_type", "iscsi").set("device_type", 0)
        .set("identifiers", Json::array()
                                .push(Json::object().set("code_set", "binary").set("type", "naa").set("id", uid))
                                .push(Json::object().set("code_set", "ascii").set("type", "t10")
                                          .set("id", "IBM     2145            " + uid)))
        .set("interconnects", Json::array().push(Json::object().set("type", "scsi")
                                                     .set("address", "69716E2E313938362D30332E636F6D2E69626D")
                                                     .set("port", "0001")));
    VDS_LUN_INFORMATION lun{};
    std::string error;
    if (FAILED(lunFromJson(j, lun, error))) {
        std::fprintf(stderr, "bad test LUN: %s\n", error.c_str());
        std::exit(2);
    }
    return lun;
}

GUID newGuid() {
    GUID g;
    CoCreateGuid(&g);
    return g;
}

struct Interfaces {
    IUnknown *unk = nullptr;
    void *hw = nullptr, *hwEx = nullptr, *set = nullptr, *notify = nullptr;
};

int load(const wchar_t *dll, Interfaces &itf, HRESULT(STDAPICALLTYPE *&canUnload)()) {
    HMODULE module = nullptr;
    step("LoadLibrary", [&](Json &) { module = LoadLibraryW(dll); return module ? S_OK : HRESULT_FROM_WIN32(GetLastError()); });
    if (!module) return 1;
    auto getClass = reinterpret_cast<HRESULT(STDAPICALLTYPE *)(REFCLSID, REFIID, void **)>(reinterpret_cast<void *>(GetProcAddress(module, "DllGetClassObject")));
    canUnload = reinterpret_cast<HRESULT(STDAPICALLTYPE *)()>(reinterpret_cast<void *>(GetProcAddress(module, "DllCanUnloadNow")));
    if (!getClass || !canUnload) return 1;
    IClassFactory *factory = nullptr;
    if (FAILED(step("DllGetClassObject", [&](Json &) { return getClass(kClsid, IID_IClassFactory, reinterpret_cast<void **>(&factory)); })))
        return 1;
    HRESULT hr = step("CreateInstance", [&](Json &) { return factory->CreateInstance(nullptr, IID_IUnknown, reinterpret_cast<void **>(&itf.unk)); });
    factory->Release();
    if (FAILED(hr)) return 1;
    struct { const char *name; const IID *iid; void **out; } wanted[] = {
        {"IVssHardwareSnapshotProvider", &IID_IVssHardwareSnapshotProvider, &itf.hw},
        {"IVssHardwareSnapshotProviderEx", &IID_IVssHardwareSnapshotProviderEx, &itf.hwEx},
        {"IVssProviderCreateSnapshotSet", &IID_IVssProviderCreateSnapshotSet, &itf.set},
        {"IVssProviderNotifications", &IID_IVssProviderNotifications, &itf.notify},
    };
    for (auto &w : wanted) {
        hr = step("QueryInterface", [&](Json &extra) {
            HRESULT r = itf.unk->QueryInterface(*w.iid, w.out);
            IUnknown *identity = nullptr;
            if (SUCCEEDED(r)) static_cast<IUnknown *>(*w.out)->QueryInterface(IID_IUnknown, reinterpret_cast<void **>(&identity));
            extra.set("iid", w.name).set("same_identity", identity == itf.unk);
            if (identity) identity->Release();
            return r;
        });
        if (FAILED(hr)) return 1;
    }
    step("QueryInterface", [&](Json &extra) {   // an interface we do not have
        void *p = nullptr;
        extra.set("iid", "IVssSoftwareSnapshotProvider");
        return itf.unk->QueryInterface(IID_IVssSoftwareSnapshotProvider, &p);
    });
    return 0;
}

int unload(Interfaces &itf, HRESULT(STDAPICALLTYPE *canUnload)()) {
    step("DllCanUnloadNow", [&](Json &) { return canUnload(); });   // still held: S_FALSE
    for (void *p : {itf.hw, itf.hwEx, itf.set, itf.notify}) static_cast<IUnknown *>(p)->Release();
    step("Release", [&](Json &extra) { extra.set("refs", static_cast<double>(itf.unk->Release())); return S_OK; });
    step("DllCanUnloadNow", [&](Json &) { return canUnload(); });
    return 0;
}

int scenario(Interfaces &itf, const std::string &uid1, const std::string &uid2) {
    VDS_LUN_INFORMATION luns[2] = {sourceLun(uid1), sourceLun(uid2)};
    wchar_t dev1[] = L"\\\\?\\PhysicalDrive1", dev2[] = L"\\\\?\\PhysicalDrive2";
    VSS_PWSZ devices[2] = {dev1, dev2};
    GUID set = newGuid();

    step("OnLoad", [&](Json &) { return vcall(itf.notify, OnLoad, static_cast<IUnknown *>(nullptr)); });
    step("GetProviderCapabilities", [&](Json &extra) {
        ULONGLONG mask = 0;
        HRESULT hr = vcall(itf.hwEx, GetProviderCapabilities, &mask);
        extra.set("mask", static_cast<double>(mask));
        return hr;
    });
    step("AreLunsSupported", [&](Json &extra) {
        BOOL ok = FALSE;
        HRESULT hr = vcall(itf.hw, AreLunsSupported, 2L, kContext, devices, luns, &ok);
        extra.set("supported", ok != FALSE);
        return hr;
    });
    for (int k = 0; k < 2; ++k)
        step("BeginPrepareSnapshot", [&](Json &extra) {
            extra.set("set_id", guidString(set));
            return vcall(itf.hw, BeginPrepareSnapshot, set, newGuid(), kContext, 1L, &devices[k], &luns[k]);
        });
    const std::pair<const char *, int> creation[] = {
        {"EndPrepareSnapshots", EndPrepareSnapshots}, {"PreCommitSnapshots", PreCommitSnapshots},
        {"CommitSnapshots", CommitSnapshots}};
    for (const auto &c : creation) step(c.first, [&](Json &) { return vcall(itf.set, c.second, set); });
    step("PostCommitSnapshots", [&](Json &) { return vcall(itf.set, PostCommitSnapshots, set, 2L); });
    step("PreFinalCommitSnapshots", [&](Json &) { return vcall(itf.set, PreFinalCommitSnapshots, set); });
    step("PostFinalCommitSnapshots", [&](Json &) { return vcall(itf.set, PostFinalCommitSnapshots, set); });

    VDS_LUN_INFORMATION targets[2] = {};   // VSS hands over empty structures
    step("GetTargetLuns", [&](Json &extra) {
        HRESULT hr = vcall(itf.hw, GetTargetLuns, 2L, devices, luns, targets);
        Json list = Json::array();
        for (const auto &t : targets) list.push(lunToJson(t));
        extra.set("luns", list);
        return hr;
    });
    // a shadow-copy disk arriving with only its NAA id: the provider completes the rest
    step("FillInLunInfo", [&](Json &extra) {
        Json naa = Json::object().set("identifiers", Json::array().push(
            Json::object().set("code_set", "binary").set("type", "naa")
                .set("id", lunToJson(targets[0]).get("identifiers")->items().at(0).str("id"))));
        VDS_LUN_INFORMATION arriving{};
        std::string error;
        lunFromJson(naa, arriving, error);
        BOOL ok = FALSE;
        wchar_t dev[] = L"\\\\?\\PhysicalDrive9";
        HRESULT hr = vcall(itf.hw, FillInLunInfo, static_cast<VSS_PWSZ>(dev), &arriving, &ok);
        extra.set("supported", ok != FALSE).set("lun", lunToJson(arriving));
        lunFree(arriving);   // what VSS does with it: CoTaskMemFree of every member
        return hr;
    });
    step("LocateLuns", [&](Json &) { return vcall(itf.hw, LocateLuns, 2L, targets); });
    step("OnLunStateChange", [&](Json &) {     // diskshadow's "mask": hide them from this host again
        return vcall(itf.hwEx, OnLunStateChange, targets, luns, DWORD(2), DWORD(VSS_ONLUNSTATECHANGE_DO_MASK_LUNS));
    });
    for (auto &t : targets)
        step("OnLunEmpty", [&](Json &) { return vcall(itf.hw, OnLunEmpty, static_cast<VSS_PWSZ>(nullptr), &t); });
    for (auto &t : targets) lunFree(t);

    GUID second = newGuid();
    step("BeginPrepareSnapshot", [&](Json &extra) {
        extra.set("set_id", guidString(second));
        return vcall(itf.hw, BeginPrepareSnapshot, second, newGuid(), kContext, 1L, &devices[0], &luns[0]);
    });
    step("EndPrepareSnapshots", [&](Json &) { return vcall(itf.set, EndPrepareSnapshots, second); });
    step("AbortSnapshots", [&](Json &) { return vcall(itf.set, AbortSnapshots, second); });
    step("OnUnload", [&](Json &) { return vcall(itf.notify, OnUnload, static_cast<BOOL>(FALSE)); });
    for (auto &l : luns) lunFree(l);
    return 0;
}

int resync(Interfaces &itf, const std::string &uid) {
    VDS_LUN_INFORMATION source = sourceLun(uid), target{};
    const LONG context = VSS_VOLSNAP_ATTR_PERSISTENT | VSS_VOLSNAP_ATTR_NO_AUTO_RELEASE;
    GUID set = newGuid();
    step("BeginPrepareSnapshot", [&](Json &) {
        return vcall(itf.hw, BeginPrepareSnapshot, set, newGuid(), context, 1L, static_cast<VSS_PWSZ *>(nullptr), &source);
    });
    const std::pair<const char *, int> creation[] = {
        {"EndPrepareSnapshots", EndPrepareSnapshots}, {"PreCommitSnapshots", PreCommitSnapshots},
        {"CommitSnapshots", CommitSnapshots}};
    for (const auto &c : creation) step(c.first, [&](Json &) { return vcall(itf.set, c.second, set); });
    step("PostCommitSnapshots", [&](Json &) { return vcall(itf.set, PostCommitSnapshots, set, 1L); });
    step("GetTargetLuns", [&](Json &) {
        return vcall(itf.hw, GetTargetLuns, 1L, static_cast<VSS_PWSZ *>(nullptr), &source, &target);
    });
    step("OnLunStateChange", [&](Json &) {
        return vcall(itf.hwEx, OnLunStateChange, &target, &source, DWORD(1), DWORD(VSS_ONLUNSTATECHANGE_NOTIFY_LUN_PRE_RECOVERY));
    });
    IVssAsync *async = nullptr;
    // from the shadow copy (VSS's "source") back onto the original LUN
    step("ResyncLuns", [&](Json &) { return vcall(itf.hwEx, ResyncLuns, &target, &source, DWORD(1), &async); });
    if (async) {
        step("IVssAsync::Wait", [&](Json &) { return async->Wait(INFINITE); });
        step("IVssAsync::QueryStatus", [&](Json &extra) {
            HRESULT status = E_FAIL;
            HRESULT hr = async->QueryStatus(&status, nullptr);
            extra.set("status", hrText(status));
            return hr;
        });
        async->Release();
    }
    step("OnLunStateChange", [&](Json &) {
        return vcall(itf.hwEx, OnLunStateChange, &target, &source, DWORD(1), DWORD(VSS_ONLUNSTATECHANGE_NOTIFY_LUN_POST_RECOVERY));
    });
    lunFree(target);
    lunFree(source);
    return 0;
}

int roundtrip() {
    char buf[65536];
    while (std::fgets(buf, sizeof buf, stdin)) {
        Json in;
        std::string error;
        VDS_LUN_INFORMATION lun{};
        if (!Json::parse(buf, in, error) || FAILED(lunFromJson(in, lun, error))) {
            print(Json::object().set("error", error));
            continue;
        }
        print(lunToJson(lun));
        lunFree(lun);
    }
    return 0;
}

}  // namespace

int wmain(int argc, wchar_t **argv) {
    QueryPerformanceFrequency(&g_freq);
    if (argc < 3) {
        std::fprintf(stderr, "usage: vssprov_harness DLL scenario UID1 UID2 [--pause M,...] | DLL commit\n");
        return 2;
    }
    for (int k = 3; k + 1 < argc; ++k) {
        if (std::wstring(argv[k]) != L"--pause") continue;
        std::string list = toUtf8(argv[k + 1]);
        for (size_t start = 0, end; start <= list.size(); start = end + 1) {
            end = list.find(',', start);
            if (end == std::string::npos) end = list.size();
            g_pause.insert(list.substr(start, end - start));
        }
    }
    CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    if (std::wstring(argv[2]) == L"roundtrip") return roundtrip();
    Interfaces itf;
    HRESULT(STDAPICALLTYPE * canUnload)() = nullptr;
    if (load(argv[1], itf, canUnload)) return 1;
    std::wstring mode = argv[2];
    int rc = 2;
    if (mode == L"scenario" && argc >= 5) {
        rc = scenario(itf, toUtf8(argv[3]), toUtf8(argv[4]));
    } else if (mode == L"resync" && argc >= 4) {
        rc = resync(itf, toUtf8(argv[3]));
    } else if (mode == L"commit") {
        GUID set = newGuid();
        step("CommitSnapshots", [&](Json &) { return vcall(itf.set, CommitSnapshots, set); });
        rc = 0;
    }
    unload(itf, canUnload);
    CoUninitialize();
    return rc;
}
