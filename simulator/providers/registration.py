"""Profile registration: the object manager, its namespaces and the SMI-S profiles the
array implements, as the 6.4 agent's developer's guide gives them.

The guide names the namespace "interop" (the SMI-S one) and its IBMTSSVC_*Interop
classes; its SLP registration also says Interop=/root/ibm, where the MOF's
IBMTSSVC_RegisteredProfile classes register the same profiles. Profiles: SNIA "Storage
Virtualizer" with the subprofiles this array implements, and "Server" with "Profile
Registration", at the MOF's default version 1.4.0. The cluster conforms to the Storage
Virtualizer profile (in interop: a cross-namespace association).
"""
from __future__ import annotations

from dataclasses import dataclass

from pywbem import CIMInstanceName

from ..array import Array
from .base import AssociationProvider, Provider, make_instance

INTEROP = "interop"
SNIA = 11                       # RegisteredOrganization
SLP = 3                         # AdvertiseTypes
VERSION = "1.4.0"
CIM_CLASSES = 2                 # CIM_Namespace.ClassType
OBJECT_MANAGER = "IBMTSSVC_ObjectManagerInterop"
NAMESPACE_CLASS = "IBMTSSVC_NameSpaceInterop"
# profile -> its subprofiles (the Storage Virtualizer ones this array implements)
PROFILES = {
    "Storage Virtualizer": ("Block Services", "Copy Services", "Masking and Mapping", "Job Control"),
    "Server": ("Profile Registration",),
}
CENTRAL = "Storage Virtualizer"   # the profile whose central instance is the cluster


@dataclass(frozen=True)
class Registration:
    """The classes that register the profiles in one namespace (None: the array's)."""
    namespace: str | None
    profile: str
    subprofile: str
    requires: str
    cluster_conforms: str

    def ns(self, a: Array) -> str:
        return self.namespace or a.namespace

    def path(self, a: Array, name: str, sub: bool = False) -> CIMInstanceName:
        return CIMInstanceName(self.subprofile if sub else self.profile, namespace=self.ns(a),
                               keybindings={"InstanceID": f"IBMTSSVC:SNIA:{name}:{VERSION}"})


IN_INTEROP = Registration(INTEROP, "IBMTSSVC_RegisteredProfileInterop", "IBMTSSVC_RegisteredSubProfileInterop",
                          "IBMTSSVC_SubProfileRequiresProfileInterop",
                          "IBMTSSVC_StorageSystemConformsToProfileInterop")
IN_ARRAY = Registration(None, "IBMTSSVC_RegisteredProfile", "IBMTSSVC_RegisteredSubProfile",
                        "IBMTSSVC_SubProfileRequiresProfile", "IBMTSSVC_ElementConformsToProfile")


def object_manager(a: Array) -> CIMInstanceName:
    return CIMInstanceName(OBJECT_MANAGER, namespace=INTEROP, keybindings={
        "SystemCreationClassName": "IBMTSSVC_Cluster", "SystemName": a.naming.cluster_name,
        "CreationClassName": OBJECT_MANAGER, "Name": f"IBMTSSVC:{a.identity.cluster_id}"})


def namespace(a: Array, name: str) -> CIMInstanceName:
    om = object_manager(a).keybindings
    return CIMInstanceName(NAMESPACE_CLASS, namespace=INTEROP, keybindings={
        "SystemCreationClassName": om["SystemCreationClassName"], "SystemName": om["SystemName"],
        "ObjectManagerCreationClassName": OBJECT_MANAGER, "ObjectManagerName": om["Name"],
        "CreationClassName": NAMESPACE_CLASS, "Name": name})


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
        for name in (INTEROP, a.namespace):
            yield make_instance(a, namespace(a, name), {"ClassType": CIM_CLASSES, "ClassTypeVersion": "2.14.0"})


class ProfileProvider(Provider):
    def __init__(self, reg: Registration, sub: bool):
        self.reg, self.sub = reg, sub
        self.classname = reg.subprofile if sub else reg.profile

    def enumerate(self, a: Array):
        names = [s for subs in PROFILES.values() for s in subs] if self.sub else list(PROFILES)
        for name in names:
            yield make_instance(a, self.reg.path(a, name, self.sub), {
                "RegisteredOrganization": SNIA, "RegisteredName": name, "RegisteredVersion": VERSION,
                "AdvertiseTypes": [SLP], "AdvertiseTypeDescriptions": ["SLP"]})


class Pairs(AssociationProvider):
    """An association with a few fixed instances, built from (left, right) path pairs."""

    def __init__(self, classname: str, roles: dict[str, str], pairs):
        self.classname, self.roles, self.pairs = classname, roles, pairs
        self.left, self.right = roles

    def enumerate(self, a: Array):
        for left, right in self.pairs(a):
            yield make_instance(a, CIMInstanceName(self.classname, namespace=left.namespace,
                                                   keybindings={self.left: left, self.right: right}), {})

    def references(self, a: Array, path, role):
        roles = self.roles_for(a, path, role)
        me = (path.classname.lower(), dict(path.keybindings))
        for inst in self.enumerate(a):
            ends = [inst.path.keybindings[r] for r in roles]
            if any((end.classname.lower(), dict(end.keybindings)) == me for end in ends):
                yield inst


def _registration(reg: Registration) -> list[Provider]:
    return [
        ProfileProvider(reg, sub=False), ProfileProvider(reg, sub=True),
        Pairs(reg.requires, {"Antecedent": reg.profile, "Dependent": reg.subprofile},
              lambda a: [(reg.path(a, p), reg.path(a, s, sub=True)) for p, subs in PROFILES.items() for s in subs]),
        Pairs(reg.cluster_conforms, {"ConformantStandard": reg.profile, "ManagedElement": "IBMTSSVC_Cluster"},
              lambda a: [(reg.path(a, CENTRAL), a.naming.cluster())]),
    ]


# the array's own namespace, and the interop one
PROVIDERS = _registration(IN_ARRAY)
INTEROP_PROVIDERS = [
    ObjectManagerProvider(), NamespaceProvider(), *_registration(IN_INTEROP),
    Pairs("IBMTSSVC_NamespaceInManagerInterop", {"Antecedent": OBJECT_MANAGER, "Dependent": NAMESPACE_CLASS},
          lambda a: [(object_manager(a), namespace(a, n)) for n in (INTEROP, a.namespace)]),
    Pairs("IBMTSSVC_ObjectManagerConformsToProfileInterop",
          {"ConformantStandard": IN_INTEROP.profile, "ManagedElement": OBJECT_MANAGER},
          lambda a: [(IN_INTEROP.path(a, "Server"), object_manager(a))]),
]
