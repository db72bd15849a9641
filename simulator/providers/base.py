"""What a provider is: the instances of one class, and (for associations) the
references that point at a given object. Instances are built from rows on each
request, so they always show the array's current state.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterable

import pywbem
from pywbem import CIMInstance, CIMInstanceName, CIMProperty

from ..array import Array
from ..xmlwrite import SharedProperty

_INT_TYPES = {"uint8": pywbem.Uint8, "uint16": pywbem.Uint16, "uint32": pywbem.Uint32,
              "uint64": pywbem.Uint64, "sint8": pywbem.Sint8, "sint16": pywbem.Sint16,
              "sint32": pywbem.Sint32, "sint64": pywbem.Sint64}


def typed(cimtype: str, value):
    """Python value -> value of the declared CIM type (None stays None)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [typed(cimtype, v) for v in value]
    if cimtype in _INT_TYPES:
        return _INT_TYPES[cimtype](value)
    if cimtype == "boolean":
        return bool(value)
    if cimtype == "string":
        return str(value)
    if cimtype == "datetime":
        return pywbem.CIMDateTime(value)
    return value


# Per-request shaping of the instances providers build (the store lock serialises
# requests, context variables keep it correct anyway): association traversals only
# need paths, and a PropertyList saves building and encoding the other properties.
_paths_only: ContextVar[bool] = ContextVar("paths_only", default=False)
_wanted: ContextVar[frozenset[str] | None] = ContextVar("wanted", default=None)


@contextmanager
def paths_only():
    token = _paths_only.set(True)
    try:
        yield
    finally:
        _paths_only.reset(token)


@contextmanager
def only_properties(names):
    """Build instances with these properties only (None: all)."""
    token = _wanted.set(None if names is None else frozenset(n.lower() for n in names))
    try:
        yield
    finally:
        _wanted.reset(token)


def make_instance(array: Array, path: CIMInstanceName, props: dict) -> CIMInstance:
    """An instance of path's class with every declared property, typed as declared;
    the ones without a value are sent as NULL, as the real agent sends them.

    A property the class does not declare is a bug here (the array would be inventing
    it): it raises instead of being dropped."""
    cls = array.schema.get(path.classname)
    inst = CIMInstance(cls.classname, path=path)
    if _paths_only.get():
        return inst
    array.built[cls.classname] += 1
    declared = array.schema.declared(cls.classname)
    given = {k.lower(): v for k, v in props.items()}
    unknown = given.keys() - array.schema.declared_names(cls.classname)
    if unknown:
        raise KeyError(f"{cls.classname} declares no {', '.join(sorted(unknown))}")
    for key, value in path.keybindings.items():
        given.setdefault(key.lower(), value)
    wanted = _wanted.get()
    props = inst.properties
    for decl in declared:
        if wanted is not None and decl[0] not in wanted:
            continue
        props[decl[1]] = _shared(decl, given.get(decl[0]))
    return inst


# (declared property, value) -> its SharedProperty. Most properties repeat across
# instances (constants, NULLs, pool and group names), so building and writing one costs a
# lookup. Bounded: past the bound, values are built for their instance alone.
_SHARED: dict[tuple, SharedProperty] = {}
_SHARED_MAX = 1 << 15


def _shared(decl: tuple, value) -> CIMProperty:
    _low, name, cimtype, is_array, ref_class = decl
    key = None
    if cimtype != "reference":  # paths compare ignoring case but are written as given: never shared
        try:
            key = (decl, type(value), tuple(value) if isinstance(value, list) else value)
            hit = _SHARED.get(key)
        except TypeError:      # an unhashable value: built for this instance alone
            key = None
        else:
            if hit is not None:
                return hit
    # once the table is full, the values that came first (constants) stay
    shared = key is not None and len(_SHARED) < _SHARED_MAX
    prop = (SharedProperty if shared else CIMProperty)(name, typed(cimtype, value), type=cimtype,
                                                       is_array=is_array, reference_class=ref_class)
    if shared:
        _SHARED[key] = prop
    return prop


class Provider:
    classname: str = ""

    def enumerate(self, array: Array) -> Iterable[CIMInstance]:
        raise NotImplementedError

    def lookup(self, array: Array, prop: str, values: list) -> list[CIMInstance] | None:
        """Instances whose property `prop` (lower case) may equal one of values, from an
        index; None when this class has no index on it (the caller scans)."""
        return None

    def get(self, array: Array, path: CIMInstanceName) -> CIMInstance | None:
        """Default: look the path up among all instances (fine for small classes)."""
        for inst in self.enumerate(array):
            if inst.path.keybindings == path.keybindings:
                return inst
        return None


class AssociationProvider(Provider):
    # role name -> class every object in that role derives from
    roles: dict[str, str] = {}

    def references(self, array: Array, path: CIMInstanceName, role: str | None) -> Iterable[CIMInstance]:
        """Association instances in which `path` stands in `role` (any role when None)."""
        raise NotImplementedError

    def get(self, array: Array, path: CIMInstanceName) -> CIMInstance | None:
        role, ref = next(iter(path.keybindings.items()))
        for inst in self.references(array, ref, role):
            if inst.path.keybindings == path.keybindings:
                return inst
        return None

    def roles_for(self, array: Array, path: CIMInstanceName, role: str | None) -> list[str]:
        """The roles in which an object of path's class can stand."""
        out = []
        for r, cls in self.roles.items():
            if role is not None and r.lower() != role.lower():
                continue
            if array.schema.is_subclass(path.classname, cls):
                out.append(r)
        return out


# (classname, method name) -> handler(array, target path, params NocaseDict) -> (rc, out params dict)
MethodHandler = Callable[[Array, CIMInstanceName, pywbem.NocaseDict], tuple[int, dict]]
