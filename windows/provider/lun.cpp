#include "lun.h"

#include <objbase.h>
#include <vss.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace vssorch {

namespace {

// Names the service uses; the index (or the listed value) is the VDS enum value.
const char *const kCodeSets[] = {"reserved", "binary", "ascii", "utf8"};
const char *const kIdTypes[] = {"vendor", "t10", "eui64", "naa", "port_relative",
                                "target_port_group", "lu_group", "md5", "scsi_name"};
const char *const kAddressTypes[] = {"unknown", "fcfs", "fcph", "fcph3", "mac", "scsi"};
const char *const kBusTypes[] = {"unknown", "scsi", "atapi", "ata", "1394", "ssa", "fibre",
                                 "usb", "raid", "iscsi", "sas", "sata", "sd", "mmc",
                                 "virtual", "filebackedvirtual", "spaces", "nvme", "scm", "ufs"};

template <size_t N>
std::string nameOf(const char *const (&names)[N], unsigned value) {
    return value < N ? names[value] : std::to_string(value);
}

// The enum value of a name (or of a decimal number for values without a name).
template <size_t N>
bool valueOf(const char *const (&names)[N], const std::string &name, unsigned &value) {
    for (unsigned k = 0; k < N; ++k)
        if (name == names[k]) { value = k; return true; }
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos || name.size() > 9) return false;
    value = static_cast<unsigned>(std::strtoul(name.c_str(), nullptr, 10));
    return true;
}

std::string hex(const BYTE *p, ULONG n) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (ULONG k = 0; k < n; ++k) {
        out += digits[p[k] >> 4];
        out += digits[p[k] & 15];
    }
    return out;
}

bool unhex(const std::string &s, std::vector<BYTE> &out) {
    if (s.size() % 2) return false;
    auto nib = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (size_t k = 0; k < s.size(); k += 2) {
        int hi = nib(s[k]), lo = nib(s[k + 1]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<BYTE>(hi << 4 | lo));
    }
    return true;
}

// ascii: one byte per character (latin-1 code points, so any byte survives the trip)
std::string latin1ToUtf8(const BYTE *p, ULONG n) {
    std::string out;
    for (ULONG k = 0; k < n; ++k) {
        if (p[k] < 0x80) {
            out += static_cast<char>(p[k]);
        } else {
            out += static_cast<char>(0xC0 | (p[k] >> 6));
            out += static_cast<char>(0x80 | (p[k] & 0x3F));
        }
    }
    return out;
}

bool utf8ToLatin1(const std::string &s, std::vector<BYTE> &out) {
    for (size_t k = 0; k < s.size(); ++k) {
        unsigned char c = s[k];
        if (c < 0x80) {
            out.push_back(c);
        } else if ((c == 0xC2 || c == 0xC3) && k + 1 < s.size()) {
            out.push_back(static_cast<BYTE>((c & 0x03) << 6 | (s[++k] & 0x3F)));
        } else {
            return false;   // beyond U+00FF: not one byte
        }
    }
    return true;
}

std::string str(const char *s) { return s ? s : ""; }

char *dupString(const std::string &s) {
    auto *p = static_cast<char *>(CoTaskMemAlloc(s.size() + 1));
    if (p) std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

BYTE *dupBytes(const std::vector<BYTE> &b) {
    auto *p = static_cast<BYTE *>(CoTaskMemAlloc(b.empty() ? 1 : b.size()));
    if (p && !b.empty()) std::memcpy(p, b.data(), b.size());
    return p;
}

struct Error {
    std::string &text;
    HRESULT fail(const std::string &why) {
        text = why;
        return E_INVALIDARG;
    }
};

HRESULT stringField(const Json &j, const char *name, bool &present, std::string &out, Error err) {
    const Json *v = j.get(name);
    present = v != nullptr;
    if (!v) return S_OK;
    if (!v->isString()) return err.fail(std::string("LUN field ") + name + " is not a string");
    out = v->asString();
    return S_OK;
}

HRESULT identifiersFromJson(const Json &list, VDS_STORAGE_DEVICE_ID_DESCRIPTOR &d, Error err) {
    if (!list.isArray()) return err.fail("identifiers is not a list");
    std::vector<VDS_STORAGE_IDENTIFIER> ids;
    std::vector<std::vector<BYTE>> bytes;
    for (const Json &item : list.items()) {
        if (!item.isObject()) return err.fail("an identifier is not an object");
        if (item.str("association", "lun") != "lun") continue;   // VDS has no association
        unsigned codeSet, type;
        if (!valueOf(kCodeSets, item.str("code_set", "binary"), codeSet)) return err.fail("unknown code_set");
        if (!valueOf(kIdTypes, item.str("type", "naa"), type)) return err.fail("unknown identifier type");
        std::vector<BYTE> b;
        const std::string id = item.str("id");
        bool ok = codeSet == VDSStorageIdCodeSetAscii ? utf8ToLatin1(id, b)
                  : codeSet == VDSStorageIdCodeSetUtf8 ? (b.assign(id.begin(), id.end()), true)
                                                       : unhex(id, b);
        if (!ok) return err.fail("identifier id does not fit its code set: " + id);
        VDS_STORAGE_IDENTIFIER v{};
        v.m_CodeSet = static_cast<VDS_STORAGE_IDENTIFIER_CODE_SET>(codeSet);
        v.m_Type = static_cast<VDS_STORAGE_IDENTIFIER_TYPE>(type);
        v.m_cbIdentifier = static_cast<ULONG>(b.size());
        ids.push_back(v);
        bytes.push_back(std::move(b));
    }
    d.m_version = 1;   // VER_VDS_STORAGE_DEVICE_ID_DESCRIPTOR is not in mingw's header
    d.m_cIdentifiers = 0;
    d.m_rgIdentifiers = nullptr;
    if (ids.empty()) return S_OK;
    d.m_rgIdentifiers = static_cast<VDS_STORAGE_IDENTIFIER *>(CoTaskMemAlloc(ids.size() * sizeof(VDS_STORAGE_IDENTIFIER)));
    if (!d.m_rgIdentifiers) return E_OUTOFMEMORY;
    for (size_t k = 0; k < ids.size(); ++k) {
        ids[k].m_rgbIdentifier = dupBytes(bytes[k]);
        d.m_rgIdentifiers[k] = ids[k];
        d.m_cIdentifiers = static_cast<ULONG>(k + 1);   // what is allocated so far, for lunFree
        if (!ids[k].m_rgbIdentifier) return E_OUTOFMEMORY;
    }
    return S_OK;
}

HRESULT interconnectsFromJson(const Json &list, VDS_LUN_INFORMATION &lun, Error err) {
    if (!list.isArray()) return err.fail("interconnects is not a list");
    if (list.items().empty()) return S_OK;
    size_t n = list.items().size();
    lun.m_rgInterconnects = static_cast<VDS_INTERCONNECT *>(CoTaskMemAlloc(n * sizeof(VDS_INTERCONNECT)));
    if (!lun.m_rgInterconnects) return E_OUTOFMEMORY;
    for (size_t k = 0; k < n; ++k) {
        const Json &item = list.items()[k];
        VDS_INTERCONNECT &ic = lun.m_rgInterconnects[k];
        ic = VDS_INTERCONNECT{};
        lun.m_cInterconnects = static_cast<ULONG>(k + 1);
        unsigned type;
        std::vector<BYTE> address, port;
        if (!item.isObject() || !valueOf(kAddressTypes, item.str("type", "unknown"), type))
            return err.fail("an interconnect has an unknown type");
        if (!unhex(item.str("address"), address) || !unhex(item.str("port"), port))
            return err.fail("interconnect address and port must be hex");
        ic.m_addressType = static_cast<VDS_INTERCONNECT_ADDRESS_TYPE>(type);
        ic.m_cbAddress = static_cast<ULONG>(address.size());
        ic.m_pbAddress = dupBytes(address);
        ic.m_cbPort = static_cast<ULONG>(port.size());
        ic.m_pbPort = dupBytes(port);
        if (!ic.m_pbAddress || !ic.m_pbPort) return E_OUTOFMEMORY;
    }
    return S_OK;
}

// Replaces *member with `value` when they differ (the old string freed: VSS allocated it
// with CoTaskMemAlloc and frees whatever the member points to afterwards).
HRESULT replaceString(char *&member, const std::string &value) {
    if (member && value == member) return S_OK;
    char *p = dupString(value);
    if (!p) return E_OUTOFMEMORY;
    CoTaskMemFree(member);
    member = p;
    return S_OK;
}

}  // namespace

std::string toUtf8(const wchar_t *s) {
    if (!s || !*s) return "";
    int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, nullptr, 0, nullptr, nullptr);
    std::string out(n > 0 ? n - 1 : 0, '\0');
    if (n > 1) WideCharToMultiByte(CP_UTF8, 0, s, -1, &out[0], n, nullptr, nullptr);
    return out;
}

std::string guidString(const GUID &id) {
    wchar_t buf[40];
    StringFromGUID2(id, buf, 40);
    return toUtf8(buf);
}

Json lunToJson(const VDS_LUN_INFORMATION &lun) {
    Json ids = Json::array();
    for (ULONG k = 0; k < lun.m_deviceIdDescriptor.m_cIdentifiers && lun.m_deviceIdDescriptor.m_rgIdentifiers; ++k) {
        const VDS_STORAGE_IDENTIFIER &v = lun.m_deviceIdDescriptor.m_rgIdentifiers[k];
        const BYTE *b = v.m_rgbIdentifier;
        ULONG n = b ? v.m_cbIdentifier : 0;
        std::string id = v.m_CodeSet == VDSStorageIdCodeSetAscii ? latin1ToUtf8(b, n)
                         : v.m_CodeSet == VDSStorageIdCodeSetUtf8 ? std::string(reinterpret_cast<const char *>(b), n)
                                                                  : hex(b, n);
        ids.push(Json::object()
                     .set("code_set", nameOf(kCodeSets, v.m_CodeSet))
                     .set("type", nameOf(kIdTypes, v.m_Type))
                     .set("association", "lun")
                     .set("id", id));
    }
    Json ics = Json::array();
    for (ULONG k = 0; k < lun.m_cInterconnects && lun.m_rgInterconnects; ++k) {
        const VDS_INTERCONNECT &ic = lun.m_rgInterconnects[k];
        ics.push(Json::object()
                     .set("type", nameOf(kAddressTypes, ic.m_addressType))
                     .set("address", hex(ic.m_pbAddress, ic.m_pbAddress ? ic.m_cbAddress : 0))
                     .set("port", hex(ic.m_pbPort, ic.m_pbPort ? ic.m_cbPort : 0)));
    }
    return Json::object()
        .set("vendor", str(lun.m_szVendorId))
        .set("product", str(lun.m_szProductId))
        .set("revision", str(lun.m_szProductRevision))
        .set("serial", str(lun.m_szSerialNumber))
        .set("bus_type", nameOf(kBusTypes, lun.m_BusType))
        .set("device_type", static_cast<int>(lun.m_DeviceType))
        .set("device_type_modifier", static_cast<int>(lun.m_DeviceTypeModifier))
        .set("command_queueing", lun.m_bCommandQueueing != FALSE)
        .set("disk_signature", lun.m_diskSignature == GUID_NULL ? std::string() : guidString(lun.m_diskSignature))
        .set("identifiers", std::move(ids))
        .set("interconnects", std::move(ics));
}

static HRESULT scalarsFromJson(const Json &j, VDS_LUN_INFORMATION &lun, Error err) {
    if (!j.isObject()) return err.fail("a LUN is not an object");
    struct { const char *name; char *VDS_LUN_INFORMATION::*member; } strings[] = {
        {"vendor", &VDS_LUN_INFORMATION::m_szVendorId},
        {"product", &VDS_LUN_INFORMATION::m_szProductId},
        {"revision", &VDS_LUN_INFORMATION::m_szProductRevision},
        {"serial", &VDS_LUN_INFORMATION::m_szSerialNumber},
    };
    for (const auto &s : strings) {
        bool present;
        std::string value;
        HRESULT hr = stringField(j, s.name, present, value, err);
        if (FAILED(hr)) return hr;
        if (present && FAILED(replaceString(lun.*(s.member), value))) return E_OUTOFMEMORY;
    }
    if (const Json *bus = j.get("bus_type")) {
        unsigned v;
        if (!bus->isString() || !valueOf(kBusTypes, bus->asString(), v)) return err.fail("unknown bus_type");
        lun.m_BusType = static_cast<VDS_STORAGE_BUS_TYPE>(v);
    }
    struct { const char *name; BYTE VDS_LUN_INFORMATION::*member; } bytes[] = {
        {"device_type", &VDS_LUN_INFORMATION::m_DeviceType},
        {"device_type_modifier", &VDS_LUN_INFORMATION::m_DeviceTypeModifier},
    };
    for (const auto &b : bytes) {
        const Json *v = j.get(b.name);
        if (!v) continue;
        if (!v->isNumber() || v->asNumber() < 0 || v->asNumber() > 255) return err.fail(std::string(b.name) + " is not a byte");
        lun.*(b.member) = static_cast<BYTE>(v->asNumber());
    }
    if (const Json *q = j.get("command_queueing")) {
        if (!q->isBool()) return err.fail("command_queueing is not true or false");
        lun.m_bCommandQueueing = q->asBool();
    }
    if (const Json *sig = j.get("disk_signature")) {
        std::wstring w(sig->asString().begin(), sig->asString().end());
        GUID g = GUID_NULL;
        if (!sig->isString() || (!w.empty() && FAILED(IIDFromString(w.c_str(), &g))))
            return err.fail("disk_signature is not a GUID");
        lun.m_diskSignature = g;
    }
    lun.m_version = VER_VDS_LUN_INFORMATION;
    return S_OK;
}

HRESULT lunFromJson(const Json &j, VDS_LUN_INFORMATION &lun, std::string &error) {
    Error err{error};
    HRESULT hr = scalarsFromJson(j, lun, err);
    const Json *ids = j.get("identifiers");
    if (SUCCEEDED(hr) && ids) hr = identifiersFromJson(*ids, lun.m_deviceIdDescriptor, err);
    const Json *ics = j.get("interconnects");
    if (SUCCEEDED(hr) && ics) hr = interconnectsFromJson(*ics, lun, err);
    if (FAILED(hr)) lunFree(lun);
    return hr;
}

HRESULT lunUpdateFromJson(const Json &j, VDS_LUN_INFORMATION &lun, std::string &error) {
    Error err{error};
    HRESULT hr = scalarsFromJson(j, lun, err);
    const Json *ids = j.get("identifiers");
    if (FAILED(hr) || !ids) return hr;
    VDS_LUN_INFORMATION fresh{};
    hr = identifiersFromJson(*ids, fresh.m_deviceIdDescriptor, err);
    if (FAILED(hr)) {
        lunFree(fresh);
        return hr;
    }
    // the new descriptor replaces VSS's whole one (its members freed the way VSS would)
    VDS_LUN_INFORMATION old{};
    old.m_deviceIdDescriptor = lun.m_deviceIdDescriptor;
    lunFree(old);
    lun.m_deviceIdDescriptor = fresh.m_deviceIdDescriptor;
    return S_OK;
}

void lunFree(VDS_LUN_INFORMATION &lun) {
    CoTaskMemFree(lun.m_szVendorId);
    CoTaskMemFree(lun.m_szProductId);
    CoTaskMemFree(lun.m_szProductRevision);
    CoTaskMemFree(lun.m_szSerialNumber);
    VDS_STORAGE_DEVICE_ID_DESCRIPTOR &d = lun.m_deviceIdDescriptor;
    for (ULONG k = 0; d.m_rgIdentifiers && k < d.m_cIdentifiers; ++k) CoTaskMemFree(d.m_rgIdentifiers[k].m_rgbIdentifier);
    CoTaskMemFree(d.m_rgIdentifiers);
    for (ULONG k = 0; lun.m_rgInterconnects && k < lun.m_cInterconnects; ++k) {
        CoTaskMemFree(lun.m_rgInterconnects[k].m_pbAddress);
        CoTaskMemFree(lun.m_rgInterconnects[k].m_pbPort);
    }
    CoTaskMemFree(lun.m_rgInterconnects);
    lun = VDS_LUN_INFORMATION{};
}

ULONGLONG capabilitiesFromJson(const Json &result) {
    ULONGLONG mask = 0;
    if (const Json *r = result.get("resync"); r && r->asBool()) mask |= VSS_PRV_CAPABILITY_LUN_RESYNC;
    if (const Json *attrs = result.get("attributes"); attrs && attrs->isArray()) {
        for (const Json &a : attrs->items()) {
            if (a.asString() == "PLEX") mask |= VSS_PRV_CAPABILITY_PLEX;
            if (a.asString() == "DIFFERENTIAL") mask |= VSS_PRV_CAPABILITY_DIFFERENTIAL;
        }
    }
    return mask;
}

}  // namespace vssorch
