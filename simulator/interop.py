"""The interop namespace: where a WBEM client that knows nothing of this array finds
the object manager, the namespaces and the registered profiles
(providers/registration.py)."""
from __future__ import annotations

from pywbem import CIMInstanceName

from .array import Array
from .cimxml import CIM_ERR_INVALID_NAMESPACE, CIMFailure
from .operations import Operations
from .providers.registration import INTEROP, INTEROP_PROVIDERS


def is_interop(namespace: str | None) -> bool:
    return (namespace or "").strip("/").lower() == INTEROP


class InteropOperations(Operations):
    """The CIM operations on the interop namespace: the same rules, its own instances;
    an object of the array's namespace (the cluster) is read from there."""

    def __init__(self, array: Array, home: Operations):
        super().__init__(array)
        self.providers = {p.classname.lower(): p for p in INTEROP_PROVIDERS}
        self.methods = {}
        self.home = home

    def _check_namespace(self, ns: str) -> None:
        if not is_interop(ns):
            raise CIMFailure(CIM_ERR_INVALID_NAMESPACE, f"namespace {ns!r} does not exist")

    def _get(self, path: CIMInstanceName):
        if path.namespace and not is_interop(path.namespace):
            return self.home._get(path)
        return super()._get(path)
