// VSS's structures <-> the service's JSON (docs/SERVICE.md, "Types").
//
// VDS_LUN_INFORMATION <-> LunInfo: vendor/product/revision/serial are the inquiry strings,
// bus_type the VDS_STORAGE_BUS_TYPE name, device_type m_DeviceType, identifiers the page
// 0x83 descriptors of m_deviceIdDescriptor, interconnects m_rgInterconnects.
// - An identifier's `id` is upper-case hex of its bytes for the binary code set, the text
//   for ascii (one byte per character, U+0000..U+00FF) and utf8. VDS keeps only
//   logical-unit identifiers, so `association` is always "lun" going out; an identifier
//   with another association coming back cannot be expressed in VDS and is left out.
// - An interconnect's `address` and `port` are upper-case hex of their bytes.
// - device_type_modifier, command_queueing, disk_signature ("{...}", "" for GUID_NULL)
//   are the other members; m_version is always VER_VDS_LUN_INFORMATION.
// Memory: every pointer member written here is CoTaskMemAlloc'ed (VSS frees it).
#pragma once

#include <windows.h>
#include <vdslun.h>

#include <string>

#include "json.h"

namespace vssorch {

std::string toUtf8(const wchar_t *s);

Json lunToJson(const VDS_LUN_INFORMATION &lun);

// Fills a zeroed `lun` from the service's JSON. On failure nothing stays allocated and
// `lun` is zeroed again. E_INVALIDARG for JSON the schema does not allow, E_OUTOFMEMORY.
HRESULT lunFromJson(const Json &j, VDS_LUN_INFORMATION &lun, std::string &error);

// FillInLunInfo: replaces the members of VSS's structure with the service's values where
// they differ (the old member freed with CoTaskMemFree); m_rgInterconnects is never
// touched (Microsoft: the provider must not change it there).
HRESULT lunUpdateFromJson(const Json &j, VDS_LUN_INFORMATION &lun, std::string &error);

// Frees every member this module could have allocated and zeroes the structure.
void lunFree(VDS_LUN_INFORMATION &lun);

// The capability mask of IVssHardwareSnapshotProviderEx::GetProviderCapabilities from the
// service's GetProviderCapabilities result (VSS_PROVIDER_CAPABILITIES bits).
ULONGLONG capabilitiesFromJson(const Json &result);

// "{xxxxxxxx-xxxx-...}" as VSS spells a VSS_ID.
std::string guidString(const GUID &id);

}  // namespace vssorch
