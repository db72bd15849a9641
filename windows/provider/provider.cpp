#include "provider.h"

#include <vsserror.h>

#include <string>

#include "async.h"
#include "client.h"
#include "json.h"
#include "lun.h"

namespace vssorch {

const CLSID CLSID_Provider = {0xd9d0f1a9, 0x07c5, 0x4648, {0xbe, 0x40, 0x85, 0x73, 0x37, 0x96, 0x21, 0x5d}};
const GUID PROVIDER_ID = {0xd90dd826, 0x87cf, 0x42ce, {0xa8, 0x8d, 0xb3, 0x2c, 0xaa, 0x82, 0x02, 0x5b}};
const GUID PROVIDER_VERSION_ID = {0x343a4cf3, 0xa144, 0x4ad5, {0xae, 0xad, 0x7d, 0x79, 0x57, 0x3c, 0xa2, 0x6a}};
const wchar_t PROVIDER_NAME[] = L"Inspur Storage Volume Shadow Copy Service Hardware Provider";
const wchar_t PROVIDER_VERSION[] = L"1.00.0.0";

volatile LONG g_objects = 0;
volatile LONG g_locks = 0;

namespace {

Json lunList(LONG count, const VDS_LUN_INFORMATION *luns) {
    Json list = Json::array();
    for (LONG k = 0; luns && k < count; ++k) list.push(lunToJson(luns[k]));
    return list;
}

// The service takes device names only as a complete list of non-empty names.
void addDeviceNames(Json &args, LONG count, VSS_PWSZ *names) {
    if (!names) return;
    Json list = Json::array();
    for (LONG k = 0; k < count; ++k) {
        if (!names[k] || !*names[k]) return;
        list.push(toUtf8(names[k]));
    }
    args.set("device_names", std::move(list));
}

HRESULT badReply(const char *call, const std::string &why) {
    reportEvent(EVENTLOG_ERROR_TYPE, std::string("vssorch provider: ") + call + ": unexpected reply: " + why);
    return VSS_E_UNEXPECTED_PROVIDER_ERROR;
}

HRESULT setCall(const char *call, const VSS_ID &set, bool commit = false) {
    Json result;
    return callService(call, Json::object().set("set_id", guidString(set)), result, commit);
}

bool countOk(LONG count) { return count > 0 && count <= 1024; }

}  // namespace

Provider::Provider() { InterlockedIncrement(&g_objects); }
Provider::~Provider() { InterlockedDecrement(&g_objects); }

STDMETHODIMP Provider::QueryInterface(REFIID riid, void **ppv) {
    if (!ppv) return E_POINTER;
    if (riid == IID_IUnknown || riid == IID_IVssHardwareSnapshotProvider || riid == IID_IVssHardwareSnapshotProviderEx)
        *ppv = static_cast<IVssHardwareSnapshotProviderEx *>(this);
    else if (riid == IID_IVssProviderCreateSnapshotSet)
        *ppv = static_cast<IVssProviderCreateSnapshotSet *>(this);
    else if (riid == IID_IVssProviderNotifications)
        *ppv = static_cast<IVssProviderNotifications *>(this);
    else {
        *ppv = nullptr;
        return E_NOINTERFACE;
    }
    AddRef();
    return S_OK;
}

STDMETHODIMP_(ULONG) Provider::AddRef() { return static_cast<ULONG>(InterlockedIncrement(&refs_)); }

STDMETHODIMP_(ULONG) Provider::Release() {
    LONG n = InterlockedDecrement(&refs_);
    if (n == 0) delete this;
    return static_cast<ULONG>(n);
}

// ---------------------------------------------------------------- LUN questions
STDMETHODIMP Provider::AreLunsSupported(LONG lLunCount, LONG lContext, VSS_PWSZ *rgwszDevices,
                                        VDS_LUN_INFORMATION *pLunInformation, BOOL *pbIsSupported) {
    if (!pbIsSupported || !pLunInformation || !countOk(lLunCount)) return E_INVALIDARG;
    *pbIsSupported = FALSE;
    Json args = Json::object();
    args.set("context", static_cast<unsigned long>(static_cast<ULONG>(lContext)))
        .set("luns", lunList(lLunCount, pLunInformation));
    addDeviceNames(args, lLunCount, rgwszDevices);
    Json result;
    HRESULT hr = callService("AreLunsSupported", args, result);
    if (SUCCEEDED(hr)) *pbIsSupported = result.get("supported") && result.get("supported")->asBool();
    return hr;
}

STDMETHODIMP Provider::FillInLunInfo(VSS_PWSZ wszDeviceName, VDS_LUN_INFORMATION *pLunInfo, BOOL *pbIsSupported) {
    if (!pLunInfo || !pbIsSupported) return E_INVALIDARG;
    *pbIsSupported = FALSE;
    Json args = Json::object();
    args.set("device_name", toUtf8(wszDeviceName)).set("lun", lunToJson(*pLunInfo));
    Json result;
    HRESULT hr = callService("FillInLunInfo", args, result);
    if (FAILED(hr) || !result.get("supported") || !result.get("supported")->asBool()) return hr;
    const Json *lun = result.get("lun");
    std::string error;
    if (!lun) return badReply("FillInLunInfo", "no lun");
    hr = lunUpdateFromJson(*lun, *pLunInfo, error);
    if (FAILED(hr)) return hr == E_OUTOFMEMORY ? hr : badReply("FillInLunInfo", error);
    *pbIsSupported = TRUE;
    return S_OK;
}

STDMETHODIMP Provider::BeginPrepareSnapshot(VSS_ID SnapshotSetId, VSS_ID SnapshotId, LONG lContext, LONG lLunCount,
                                            VSS_PWSZ *rgDeviceNames, VDS_LUN_INFORMATION *rgLunInformation) {
    if (!rgLunInformation || !countOk(lLunCount)) return E_INVALIDARG;
    Json args = Json::object();
    args.set("set_id", guidString(SnapshotSetId))
        .set("snapshot_id", guidString(SnapshotId))
        .set("context", static_cast<unsigned long>(static_cast<ULONG>(lContext)))
        .set("luns", lunList(lLunCount, rgLunInformation));
    addDeviceNames(args, lLunCount, rgDeviceNames);
    Json result;
    return callService("BeginPrepareSnapshot", args, result);
}

STDMETHODIMP Provider::GetTargetLuns(LONG lLunCount, VSS_PWSZ *rgDeviceNames, VDS_LUN_INFORMATION *rgSourceLuns,
                                     VDS_LUN_INFORMATION *rgDestinationLuns) {
    if (!rgSourceLuns || !rgDestinationLuns || !countOk(lLunCount)) return E_INVALIDARG;
    Json args = Json::object();
    args.set("source_luns", lunList(lLunCount, rgSourceLuns));
    addDeviceNames(args, lLunCount, rgDeviceNames);
    Json result;
    HRESULT hr = callService("GetTargetLuns", args, result);
    if (FAILED(hr)) return hr;
    const Json *luns = result.get("luns");
    if (!luns || !luns->isArray() || luns->items().size() != static_cast<size_t>(lLunCount))
        return badReply("GetTargetLuns", "not one LUN per source");
    // VSS hands over empty structures; every member we set is ours to allocate and VSS's to free.
    for (LONG k = 0; k < lLunCount; ++k) {
        std::string error;
        rgDestinationLuns[k] = VDS_LUN_INFORMATION{};
        hr = lunFromJson(luns->items()[k], rgDestinationLuns[k], error);
        if (FAILED(hr)) {
            for (LONG j = 0; j < k; ++j) lunFree(rgDestinationLuns[j]);
            return hr == E_OUTOFMEMORY ? hr : badReply("GetTargetLuns", error);
        }
    }
    return S_OK;
}

STDMETHODIMP Provider::LocateLuns(LONG lLunCount, VDS_LUN_INFORMATION *rgSourceLuns) {
    if (!rgSourceLuns || !countOk(lLunCount)) return E_INVALIDARG;
    Json result;
    return callService("LocateLuns", Json::object().set("luns", lunList(lLunCount, rgSourceLuns)), result);
}

STDMETHODIMP Provider::OnLunEmpty(VSS_PWSZ wszDeviceName, VDS_LUN_INFORMATION *pInformation) {
    if (!pInformation) return E_INVALIDARG;
    Json args = Json::object();
    args.set("lun", lunToJson(*pInformation));
    if (wszDeviceName && *wszDeviceName) args.set("device_name", toUtf8(wszDeviceName));
    Json result;
    return callService("OnLunEmpty", args, result);
}

// ---------------------------------------------------------------- Ex
STDMETHODIMP Provider::GetProviderCapabilities(ULONGLONG *pllOriginalCapabilityMask) {
    if (!pllOriginalCapabilityMask) return E_INVALIDARG;
    *pllOriginalCapabilityMask = 0;
    Json result;
    HRESULT hr = callService("GetProviderCapabilities", Json::object(), result);
    if (SUCCEEDED(hr)) *pllOriginalCapabilityMask = capabilitiesFromJson(result);
    return hr;
}

STDMETHODIMP Provider::OnLunStateChange(VDS_LUN_INFORMATION *pSnapshotLuns, VDS_LUN_INFORMATION *pOriginalLuns,
                                        DWORD dwCount, DWORD dwFlags) {
    if (!pSnapshotLuns || !countOk(static_cast<LONG>(dwCount))) return E_INVALIDARG;
    Json args = Json::object();
    args.set("snapshot_luns", lunList(static_cast<LONG>(dwCount), pSnapshotLuns));
    if (pOriginalLuns) args.set("original_luns", lunList(static_cast<LONG>(dwCount), pOriginalLuns));
    args.set("flags", static_cast<unsigned long>(dwFlags));
    Json result;
    return callService("OnLunStateChange", args, result);
}

STDMETHODIMP Provider::ResyncLuns(VDS_LUN_INFORMATION *pSourceLuns, VDS_LUN_INFORMATION *pTargetLuns, DWORD dwCount,
                                  IVssAsync **ppAsync) {
    if (!ppAsync) return E_INVALIDARG;
    *ppAsync = nullptr;
    if (!pSourceLuns || !pTargetLuns || !countOk(static_cast<LONG>(dwCount))) return E_INVALIDARG;
    Json args = Json::object();
    args.set("source_luns", lunList(static_cast<LONG>(dwCount), pSourceLuns))
        .set("target_luns", lunList(static_cast<LONG>(dwCount), pTargetLuns));
    return startAsyncCall("ResyncLuns", std::move(args), ppAsync);
}

// Not forwarded: the service has no OnReuseLuns call (docs/SERVICE.md).
STDMETHODIMP Provider::OnReuseLuns(VDS_LUN_INFORMATION *, VDS_LUN_INFORMATION *, DWORD) { return S_OK; }

// ---------------------------------------------------------------- creating a set
STDMETHODIMP Provider::EndPrepareSnapshots(VSS_ID SnapshotSetId) { return setCall("EndPrepareSnapshots", SnapshotSetId); }
STDMETHODIMP Provider::PreCommitSnapshots(VSS_ID SnapshotSetId) { return setCall("PreCommitSnapshots", SnapshotSetId); }
// Flush-and-hold: the shorter commit timeout keeps us inside VSS's 10 s window.
STDMETHODIMP Provider::CommitSnapshots(VSS_ID SnapshotSetId) { return setCall("CommitSnapshots", SnapshotSetId, true); }

STDMETHODIMP Provider::PostCommitSnapshots(VSS_ID SnapshotSetId, LONG lSnapshotsCount) {
    if (lSnapshotsCount < 0) return E_INVALIDARG;
    Json args = Json::object();
    args.set("set_id", guidString(SnapshotSetId)).set("snapshots_count", static_cast<long>(lSnapshotsCount));
    Json result;
    return callService("PostCommitSnapshots", args, result);
}

STDMETHODIMP Provider::PreFinalCommitSnapshots(VSS_ID SnapshotSetId) {
    return setCall("PreFinalCommitSnapshots", SnapshotSetId);
}
STDMETHODIMP Provider::PostFinalCommitSnapshots(VSS_ID SnapshotSetId) {
    return setCall("PostFinalCommitSnapshots", SnapshotSetId);
}
STDMETHODIMP Provider::AbortSnapshots(VSS_ID SnapshotSetId) { return setCall("AbortSnapshots", SnapshotSetId); }

// ---------------------------------------------------------------- notifications
STDMETHODIMP Provider::OnLoad(IUnknown *) {
    Json result;
    return callService("OnLoad", Json::object(), result);
}

STDMETHODIMP Provider::OnUnload(BOOL bForceUnload) {
    Json result;
    return callService("OnUnload", Json::object().set("force", bForceUnload != FALSE), result);
}

}  // namespace vssorch
