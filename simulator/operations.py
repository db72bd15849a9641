"""The CIM operations: intrinsic ones over the providers (instances) or the class
repository (classes), and InvokeMethod with parameters typed and checked against
the method's declaration before any handler runs."""
from __future__ import annotations

from pywbem import CIMClassName, CIMError, CIMInstanceName, NocaseDict

from . import query
from .array import Array
from .cimxml import (CIM_ERR_INVALID_CLASS, CIM_ERR_INVALID_NAMESPACE,
                     CIM_ERR_INVALID_PARAMETER, CIM_ERR_METHOD_NOT_FOUND, CIM_ERR_NOT_FOUND,
                     CIM_ERR_NOT_SUPPORTED, CIMFailure, Request, typed_param)
from .providers import ALL_METHODS, ALL_PROVIDERS, DELETABLE
from .providers.base import AssociationProvider, only_properties, paths_only
from .returncodes import ArrayError

CLASS_OPERATIONS = {"GetClass", "EnumerateClasses", "EnumerateClassNames",
                    "GetQualifier", "EnumerateQualifiers"}
PULL_OPERATIONS = {"OpenEnumerateInstances", "OpenEnumerateInstancePaths", "OpenAssociatorInstances",
                   "OpenAssociatorInstancePaths", "OpenReferenceInstances", "OpenReferenceInstancePaths",
                   "OpenQueryInstances", "PullInstancesWithPath", "PullInstancePaths", "PullInstances",
                   "CloseEnumeration", "EnumerationCount"}


def _identity(path: CIMInstanceName) -> tuple:
    return (path.classname.lower(),
            tuple(sorted((k.lower(), _identity(v) if isinstance(v, CIMInstanceName) else str(v))
                         for k, v in path.keybindings.items())))




class Operations:
    def __init__(self, array: Array):
        self.a = array
        self.schema = array.schema
        self.providers = {p.classname.lower(): p for p in ALL_PROVIDERS}
        self.methods = {(c.lower(), m.lower()): h for (c, m), h in ALL_METHODS.items()}

    # ------------------------------------------------------------ helpers
    def _check_namespace(self, namespace: str) -> None:
        if (namespace or "").strip("/").lower() != self.a.namespace.strip("/").lower():
            raise CIMFailure(CIM_ERR_INVALID_NAMESPACE, f"namespace {namespace!r} does not exist")

    def _class(self, classname: str) -> str:
        canon = self.schema.canonical(str(classname))
        if canon is None:
            raise CIMFailure(CIM_ERR_INVALID_CLASS, f"class {classname} does not exist")
        return canon

    def _providers_under(self, classname: str):
        return [p for p in self.providers.values() if self.schema.is_subclass(p.classname, classname)]

    def _get(self, path: CIMInstanceName):
        classname = self._class(path.classname)
        provider = self.providers.get(classname.lower())
        if provider is None:
            return None
        try:
            return provider.get(self.a, path)
        except ArrayError:  # a path that cannot name one of our objects
            return None

    def _require(self, path) -> CIMInstanceName:
        if not isinstance(path, CIMInstanceName):
            raise CIMFailure(CIM_ERR_INVALID_PARAMETER, "an instance path is required")
        with paths_only():  # existence only: no need to build its properties
            found = self._get(path)
        if found is None:
            raise CIMFailure(CIM_ERR_NOT_FOUND, f"no instance {path}")
        return path

    # ------------------------------------------------------------ dispatch
    def intrinsic(self, req: Request):
        self._check_namespace(req.namespace)
        if req.method in CLASS_OPERATIONS:
            return self._class_operation(req)
        if req.method in PULL_OPERATIONS:
            raise CIMFailure(CIM_ERR_NOT_SUPPORTED, f"{req.method} is not supported; use the classic operations")
        handler = getattr(self, "op_" + req.method, None)
        if handler is None:
            raise CIMFailure(CIM_ERR_NOT_SUPPORTED, f"{req.method} is not supported")
        return handler(NocaseDict(req.params))

    def _class_operation(self, req: Request):
        params = dict(req.params)
        for key in ("ClassName",):
            if isinstance(params.get(key), CIMClassName):
                params[key] = params[key].classname
        try:
            result = getattr(self.schema.repo, req.method)(namespace=self.a.namespace, **params)
        except CIMError as exc:
            raise CIMFailure(exc.status_code, exc.status_description) from None
        except TypeError as exc:
            raise CIMFailure(CIM_ERR_INVALID_PARAMETER, str(exc)) from None
        return result if isinstance(result, list) else [result]

    # ------------------------------------------------------------ instances
    def op_EnumerateInstanceNames(self, p):
        classname = self._class(p["ClassName"].classname)
        with paths_only():
            return [inst.path for prov in self._providers_under(classname) for inst in prov.enumerate(self.a)]

    def op_EnumerateInstances(self, p):
        classname = self._class(p["ClassName"].classname)
        wanted = p.get("PropertyList")
        if not p.get("DeepInheritance", True):  # only the properties the named class declares
            declared = self.schema.property_names(classname)
            wanted = declared if wanted is None else [n for n in wanted if n.lower() in declared]
        with only_properties(wanted):
            return [inst for prov in self._providers_under(classname) for inst in prov.enumerate(self.a)]

    def op_ExecQuery(self, p):
        """The WQL/CQL subset in query.py; indexed lookups where the condition allows."""
        q = query.parse(p.get("QueryLanguage"), p.get("Query"))
        classname = self._class(q.classname)
        used = query.properties_used(q.where)
        wanted = None if q.properties is None else {n.lower() for n in q.properties} | used
        terms = query.index_terms(q.where)
        out = []
        with only_properties(wanted):
            for prov in self._providers_under(classname):
                found = _indexed(self.a, prov, terms) if terms else None
                for inst in (prov.enumerate(self.a) if found is None else found):
                    if query.matches(inst, q.where):
                        out.append(inst)
        if q.properties is not None and used:
            keep = {n.lower() for n in q.properties}
            for inst in out:
                for name in [n for n in inst.properties if n.lower() not in keep]:
                    del inst.properties[name]
        return out

    def op_GetInstance(self, p):
        path = p.get("InstanceName")
        if not isinstance(path, CIMInstanceName):
            raise CIMFailure(CIM_ERR_INVALID_PARAMETER, "InstanceName is required")
        with only_properties(p.get("PropertyList")):
            inst = self._get(path)
        if inst is None:
            raise CIMFailure(CIM_ERR_NOT_FOUND, f"no instance {path}")
        return [inst]

    def op_DeleteInstance(self, p):
        path = self._require(p.get("InstanceName"))
        deleter = DELETABLE.get(path.classname.lower())
        if deleter is None:
            raise CIMFailure(CIM_ERR_NOT_SUPPORTED, f"instances of {path.classname} cannot be deleted")
        deleter(self.a, path)
        return None

    # ------------------------------------------------------------ associations
    def _association_instances(self, obj: CIMInstanceName, assoc_class, role):
        providers = [p for p in self.providers.values() if isinstance(p, AssociationProvider)]
        if assoc_class:
            assoc = self._class(assoc_class.classname if isinstance(assoc_class, CIMClassName) else assoc_class)
            providers = [p for p in providers if self.schema.is_subclass(p.classname, assoc)]
        for prov in providers:
            yield from prov.references(self.a, obj, role)

    def _far_ends(self, p):
        obj = self._require(p["ObjectName"])
        me = _identity(obj)
        result_class = p.get("ResultClass")
        result_class = self._class(result_class.classname if isinstance(result_class, CIMClassName)
                                   else result_class) if result_class else None
        result_role = p.get("ResultRole")
        seen, out = set(), []
        with paths_only():  # only the associations' references are read
            assocs = list(self._association_instances(obj, p.get("AssocClass"), p.get("Role")))
        for assoc in assocs:
            for name, value in assoc.path.keybindings.items():
                if not isinstance(value, CIMInstanceName) or _identity(value) == me:
                    continue
                if result_role and name.lower() != result_role.lower():
                    continue
                if result_class and not self.schema.is_subclass(value.classname, result_class):
                    continue
                key = _identity(value)
                if key not in seen:
                    seen.add(key)
                    out.append(value)
        return out

    def _is_class_level(self, p) -> bool:
        return isinstance(p.get("ObjectName"), CIMClassName)

    def op_AssociatorNames(self, p):
        if self._is_class_level(p):
            return self._class_level("AssociatorNames", p)
        return self._far_ends(p)

    def op_Associators(self, p):
        if self._is_class_level(p):
            return self._class_level("Associators", p)
        out = []
        far = self._far_ends(p)
        with only_properties(p.get("PropertyList")):
            for path in far:
                inst = self._get(path)
                if inst is not None:
                    out.append(inst)
        return out

    def _references(self, p):
        obj = self._require(p["ObjectName"])
        return list(self._association_instances(obj, p.get("ResultClass"), p.get("Role")))

    def op_ReferenceNames(self, p):
        if self._is_class_level(p):
            return self._class_level("ReferenceNames", p)
        with paths_only():
            return [inst.path for inst in self._references(p)]

    def op_References(self, p):
        if self._is_class_level(p):
            return self._class_level("References", p)
        with only_properties(p.get("PropertyList")):
            return self._references(p)

    def _class_level(self, method: str, p):
        params = dict(p)
        params["ObjectName"] = params["ObjectName"].classname
        for key in ("AssocClass", "ResultClass"):
            if isinstance(params.get(key), CIMClassName):
                params[key] = params[key].classname
        params.pop("PropertyList", None)
        params.pop("IncludeQualifiers", None)
        params.pop("IncludeClassOrigin", None)
        try:
            result = getattr(self.schema.repo, method)(**params)
        except CIMError as exc:
            raise CIMFailure(exc.status_code, exc.status_description) from None
        return [r[1] if isinstance(r, tuple) else r for r in result]

    # ------------------------------------------------------------ methods
    def invoke(self, req: Request):
        """-> (return code, [(name, type, value)]); a refusal raises ArrayError so the
        caller's transaction rolls back before the return code is sent."""
        self._check_namespace(req.namespace)
        target = req.target
        if isinstance(target, CIMClassName):
            raise CIMFailure(CIM_ERR_NOT_SUPPORTED, "this array has no static methods")
        classname = self._class(target.classname)
        decl = self.schema.method(classname, req.method)
        handler = self.methods.get((classname.lower(), req.method.lower()))
        if decl is None or handler is None:
            raise CIMFailure(CIM_ERR_METHOD_NOT_FOUND, f"{classname} has no method {req.method}")
        self._require(target)
        params = NocaseDict()
        for name, _ptype, raw in req.raw_params:
            pdecl = next((d for n, d in decl.parameters.items() if n.lower() == name.lower()), None)
            if pdecl is None or _is_out_only(pdecl):
                raise CIMFailure(CIM_ERR_INVALID_PARAMETER, f"{req.method} has no input parameter {name}")
            try:
                params[pdecl.name] = typed_param(raw, pdecl.type, pdecl.is_array)
            except (ValueError, TypeError) as exc:
                raise CIMFailure(CIM_ERR_INVALID_PARAMETER, f"parameter {name}: {exc}") from None
        rc, out = handler(self.a, target, params)
        return rc, self.typed_out(decl, out)

    @staticmethod
    def typed_out(decl, out: dict) -> list[tuple[str, str, object]]:
        return [(decl.parameters[name].name, decl.parameters[name].type, value) for name, value in out.items()]

    def method_decl(self, req: Request):
        return self.schema.method(req.target.classname, req.method)


def _indexed(a: Array, prov, terms):
    """The provider's instances matching any of the terms, each once; None if one of
    the terms has no index (then the provider is scanned)."""
    out, seen = [], set()
    for prop, values in terms:
        found = prov.lookup(a, prop, values)
        if found is None:
            return None
        for inst in found:
            key = _identity(inst.path)
            if key not in seen:
                seen.add(key)
                out.append(inst)
    return out


def _is_out_only(pdecl) -> bool:
    in_q = pdecl.qualifiers.get("In")
    return in_q is not None and in_q.value is False
