// The COM class VSS loads: a hardware provider whose every callback is forwarded to
// `vssorch serve` (client.h), which keeps the state between callbacks and drives the array.
//
// Interfaces: mingw-w64's vsprov.h is marked "layout not verified". Its declarations of
// IVssHardwareSnapshotProvider, IVssHardwareSnapshotProviderEx,
// IVssProviderCreateSnapshotSet and IVssProviderNotifications were compared with
// Microsoft's MIDL-generated vsprov.h (microsoft/win32metadata,
// generation/WinSDK/RecompiledIdlHeaders/um/vsprov.h, commit 0a572ab7): same IIDs, same
// base interfaces, same method order and parameter types (mingw's WINBOOL is BOOL), so
// they are used as they are. Microsoft's order:
//   IVssHardwareSnapshotProvider: AreLunsSupported, FillInLunInfo, BeginPrepareSnapshot,
//     GetTargetLuns, LocateLuns, OnLunEmpty
//   IVssHardwareSnapshotProviderEx (derives from the above): GetProviderCapabilities,
//     OnLunStateChange, ResyncLuns, OnReuseLuns
//   IVssProviderCreateSnapshotSet: EndPrepareSnapshots, PreCommitSnapshots,
//     CommitSnapshots, PostCommitSnapshots, PreFinalCommitSnapshots,
//     PostFinalCommitSnapshots, AbortSnapshots
//   IVssProviderNotifications: OnLoad, OnUnload
// tests/windows/test_provider_wine.py checks each slot by calling through the vtable.
#pragma once

#include <windows.h>
#include <vss.h>
#include <vsprov.h>

namespace vssorch {

// {D9D0F1A9-07C5-4648-BE40-85733796215D}: this COM class
extern const CLSID CLSID_Provider;
// {D90DD826-87CF-42CE-A88D-B32CAA82025B}: the provider id VSS knows us by (the manual's,
// orchestrator/vss.py PROVIDER_ID) and its version id
extern const GUID PROVIDER_ID;
extern const GUID PROVIDER_VERSION_ID;
extern const wchar_t PROVIDER_NAME[];
extern const wchar_t PROVIDER_VERSION[];

// Objects and server locks alive, for DllCanUnloadNow.
extern volatile LONG g_objects;
extern volatile LONG g_locks;

class Provider final : public IVssHardwareSnapshotProviderEx,
                       public IVssProviderCreateSnapshotSet,
                       public IVssProviderNotifications {
public:
    Provider();
    Provider(const Provider &) = delete;
    Provider &operator=(const Provider &) = delete;

    // IUnknown (one identity for all interfaces)
    STDMETHODIMP QueryInterface(REFIID riid, void **ppv) override;
    STDMETHODIMP_(ULONG) AddRef() override;
    STDMETHODIMP_(ULONG) Release() override;

    // IVssHardwareSnapshotProvider
    STDMETHODIMP AreLunsSupported(LONG lLunCount, LONG lContext, VSS_PWSZ *rgwszDevices,
                                  VDS_LUN_INFORMATION *pLunInformation, BOOL *pbIsSupported) override;
    STDMETHODIMP FillInLunInfo(VSS_PWSZ wszDeviceName, VDS_LUN_INFORMATION *pLunInfo, BOOL *pbIsSupported) override;
    STDMETHODIMP BeginPrepareSnapshot(VSS_ID SnapshotSetId, VSS_ID SnapshotId, LONG lContext, LONG lLunCount,
                                      VSS_PWSZ *rgDeviceNames, VDS_LUN_INFORMATION *rgLunInformation) override;
    STDMETHODIMP GetTargetLuns(LONG lLunCount, VSS_PWSZ *rgDeviceNames, VDS_LUN_INFORMATION *rgSourceLuns,
                               VDS_LUN_INFORMATION *rgDestinationLuns) override;
    STDMETHODIMP LocateLuns(LONG lLunCount, VDS_LUN_INFORMATION *rgSourceLuns) override;
    STDMETHODIMP OnLunEmpty(VSS_PWSZ wszDeviceName, VDS_LUN_INFORMATION *pInformation) override;

    // IVssHardwareSnapshotProviderEx
    STDMETHODIMP GetProviderCapabilities(ULONGLONG *pllOriginalCapabilityMask) override;
    STDMETHODIMP OnLunStateChange(VDS_LUN_INFORMATION *pSnapshotLuns, VDS_LUN_INFORMATION *pOriginalLuns,
                                  DWORD dwCount, DWORD dwFlags) override;
    STDMETHODIMP ResyncLuns(VDS_LUN_INFORMATION *pSourceLuns, VDS_LUN_INFORMATION *pTargetLuns, DWORD dwCount,
                            IVssAsync **ppAsync) override;
    STDMETHODIMP OnReuseLuns(VDS_LUN_INFORMATION *pSnapshotLuns, VDS_LUN_INFORMATION *pOriginalLuns,
                             DWORD dwCount) override;

    // IVssProviderCreateSnapshotSet
    STDMETHODIMP EndPrepareSnapshots(VSS_ID SnapshotSetId) override;
    STDMETHODIMP PreCommitSnapshots(VSS_ID SnapshotSetId) override;
    STDMETHODIMP CommitSnapshots(VSS_ID SnapshotSetId) override;
    STDMETHODIMP PostCommitSnapshots(VSS_ID SnapshotSetId, LONG lSnapshotsCount) override;
    STDMETHODIMP PreFinalCommitSnapshots(VSS_ID SnapshotSetId) override;
    STDMETHODIMP PostFinalCommitSnapshots(VSS_ID SnapshotSetId) override;
    STDMETHODIMP AbortSnapshots(VSS_ID SnapshotSetId) override;

    // IVssProviderNotifications
    STDMETHODIMP OnLoad(IUnknown *pCallback) override;
    STDMETHODIMP OnUnload(BOOL bForceUnload) override;

private:
    ~Provider();
    volatile LONG refs_ = 1;
};

}  // namespace vssorch
