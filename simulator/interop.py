"""The interop namespace: how a WBEM client that knows nothing of this array finds the
object manager, the namespaces and the SMI-S profiles the array implements.

The developer's guide of the 6.4 agent names the namespace "interop" (the SMI-S one)
and the IBMTSSVC_*Interop classes of its interop profile; the profiles and their
version are those the guide's SLP registration lists and the MOF's default version
(1.4.0): SNIA "Storage Virtualizer" with the subprofiles this array implements, and
"Server" with "Profile Registration". The cluster, in the array's own namespace,
conforms to the Storage Virtualizer profile (a cross-namespace association).
"""
from __future__ import annotations

from pywbem import CIMInstanceName

from .array import Array
from .cimxml import CIM_ERR_INVALID_NAMESPACE, CIMFailure
from .operations import Operations
from .providers.base import AssociationProvider, Provider, make_instance

NAMESPACE = "interop"
SNIA = 11                       # RegisteredOrganization
SLP = 3                         # AdvertiseTypes
VERSION = "1.4.0"
CIM_CLASSES = 2                 # CIM_Namespace.ClassType
OBJECT_MANAGER = "IBMTSSVC_ObjectManagerInterop"
NAMESPACE_CLASS = "IBMTSSVC_NameSpaceInterop"
PROFILE = "IBMTSSVC_RegisteredProfileInterop"
SUBPROFILE = "IBMTSSVC_RegisteredSubProfileInterop"
# profile -> its subprofiles (the Storage Virtualizer ones this array implements)
PROFILES = {
    "Storage Virtualizer": ("Block Services", "Copy Services", "Masking and Mapping", "Job Control"),
    "Server": ("Profile Registration",),
}
CENTRAL = "Storage Virtualizer"   # the profile whose central instance is the cluster


def is_interop(namespace: str | None) -> bool:
    return (namespace or "").strip("/").lower() == NAMESPACE


def _path(classname: str, keys: dict) -> CIMInstanceName:
    return CIMInstanceName(classname, keybindings=keys, namespace=NAMESPACE)


def object_manager(a: Array) -> CIMInstanceName:
    return _path(OBJECT_MANAGER, {"SystemCreationClassName": "IBMTSSVC_Cluster",
                                  "SystemName": a.naming.cluster_name,
                                  "CreationClassName": OBJECT_MANAGER,
                                  "Name": f"IBMTSSVC:{a.identity.cluster_id}"})


def namespace(a: Array, name: str) -> CIMInstanceName:
    om = object_manager(a).keybindings
    return _path(NAMESPACE_CLASS, {"SystemCreationClassName": om["SystemCreationClassName"],
                                   "SystemName": om["SystemName"],
                                   "ObjectManagerCreationClassName": OBJECT_MANAGER,
                                   "ObjectManagerName": om["Name"],
                                   "CreationClassName": NAMESPACE_CLASS, "Name": name})


def profile(name: str, sub: bool = False) -> CIMInstanceName:
    return _path(SUBPROFILE if sub else PROFILE, {"InstanceID": f"IBMTSSVC:SNIA:{name}:{VERSION}"})


class ObjectManagerProvider(Provider):
    classname = OBJECT_MANAGER

    def enumerate(self, a: Array):
        level = a.identity.code_level
        yield make_instance(a, object_manager(a), {
            "ElementName": "IBMTSSVC CIM agent", "Version": level,
            "Description": f"SVC-family CIM agent (embedded array) version {level}",
            "OperationalStatus": [2], "Started": True, "EnabledState": 2})


class NamespaceProvider(Provider):
    classname = NAMESPACE_CLASS

    def enumerate(self, a: Array):
        for name in (NAMESPACE, a.namespace):
            yield make_instance(a, namespace(a, name), {"ClassType": CIM_CLASSES, "ClassTypeVersion": "2.14.0"})


class ProfileProvider(Provider):
    def __init__(self, sub: bool):
        self.sub = sub
        self.classname = SUBPROFILE if sub else PROFILE

    def enumerate(self, a: Array):
        names = [s for subs in PROFILES.values() for s in subs] if self.sub else list(PROFILES)
        for name in names:
            yield make_instance(a, profile(name, self.sub), {
                "RegisteredOrganization": SNIA, "RegisteredName": name, "RegisteredVersion": VERSION,
                "AdvertiseTypes": [SLP], "AdvertiseTypeDescriptions": ["SLP"]})


class _Pairs(AssociationProvider):
    """An association with a few fixed instances: (left, right) path pairs."""
    left = right = ""

    def pairs(self, a: Array) -> list[tuple[CIMInstanceName, CIMInstanceName]]:
        raise NotImplementedError

    def enumerate(self, a: Array):
        for left, right in self.pairs(a):
            yield make_instance(a, CIMInstanceName(self.classname, namespace=NAMESPACE,
                                                   keybindings={self.left: left, self.right: right}), {})

    def references(self, a: Array, path, role):
        roles = self.roles_for(a, path, role)
        me = (path.classname.lower(), dict(path.keybindings))
        for inst in self.enumerate(a):
            for r in roles:
                end = inst.path.keybindings[r]
                if (end.classname.lower(), dict(end.keybindings)) == me:
                    yield inst
                    break


class NamespaceInManager(_Pairs):
    classname = "IBMTSSVC_NamespaceInManagerInterop"
    left, right = "Antecedent", "Dependent"
    roles = {"Antecedent": OBJECT_MANAGER, "Dependent": NAMESPACE_CLASS}

    def pairs(self, a):
        return [(object_manager(a), namespace(a, n)) for n in (NAMESPACE, a.namespace)]


class SubProfileRequiresProfile(_Pairs):
    classname = "IBMTSSVC_SubProfileRequiresProfileInterop"
    left, right = "Antecedent", "Dependent"
    roles = {"Antecedent": PROFILE, "Dependent": SUBPROFILE}

    def pairs(self, a):
        return [(profile(p), profile(s, sub=True)) for p, subs in PROFILES.items() for s in subs]


class ObjectManagerConforms(_Pairs):
    classname = "IBMTSSVC_ObjectManagerConformsToProfileInterop"
    left, right = "ConformantStandard", "ManagedElement"
    roles = {"ConformantStandard": PROFILE, "ManagedElement": OBJECT_MANAGER}

    def pairs(self, a):
        return [(profile("Server"), object_manager(a))]


class StorageSystemConforms(_Pairs):
    classname = "IBMTSSVC_StorageSystemConformsToProfileInterop"
    left, right = "ConformantStandard", "ManagedElement"
    roles = {"ConformantStandard": PROFILE, "ManagedElement": "IBMTSSVC_Cluster"}

    def pairs(self, a):
        return [(profile(CENTRAL), a.naming.cluster())]


PROVIDERS = [ObjectManagerProvider(), NamespaceProvider(), ProfileProvider(sub=False),
             ProfileProvider(sub=True), NamespaceInManager(), SubProfileRequiresProfile(),
             ObjectManagerConforms(), StorageSystemConforms()]


class InteropOperations(Operations):
    """The CIM operations on the interop namespace: the same rules, its own instances;
    an object of the array's namespace (the cluster) is read from there."""

    def __init__(self, array: Array, home: Operations):
        super().__init__(array)
        self.providers = {p.classname.lower(): p for p in PROVIDERS}
        self.methods = {}
        self.home = home

    def _check_namespace(self, ns: str) -> None:
        if not is_interop(ns):
            raise CIMFailure(CIM_ERR_INVALID_NAMESPACE, f"namespace {ns!r} does not exist")

    def _get(self, path: CIMInstanceName):
        if path.namespace and not is_interop(path.namespace):
            return self.home._get(path)
        return super()._get(path)
