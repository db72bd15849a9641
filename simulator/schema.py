"""The array's class declarations, compiled once from schema/ibmtssvc.mof.

Class-level operations (GetClass, EnumerateClasses, EnumerateClassNames, qualifier
declarations) are answered by pywbem's own in-memory repository, which implements
their filters; instance data never goes there.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pywbem
from pywbem_mock import FakedWBEMConnection

MOF = Path(__file__).with_name("schema") / "ibmtssvc.mof"


class Schema:
    def __init__(self, namespace: str):
        self.namespace = namespace
        self.repo = FakedWBEMConnection(default_namespace=namespace)
        self.repo.compile_mof_file(str(MOF), namespace=namespace)
        self._classes: dict[str, pywbem.CIMClass] = {}
        for name in self.repo.EnumerateClassNames(DeepInheritance=True):
            cls = self.repo.GetClass(name, LocalOnly=False, IncludeQualifiers=True)
            self._classes[name.lower()] = cls
        self._subclass_cache: dict[tuple[str, str], bool] = {}
        self._declared: dict[str, tuple] = {}
        self._declared_names: dict[str, frozenset] = {}

    def get(self, classname: str) -> pywbem.CIMClass | None:
        return self._classes.get(classname.lower())

    def canonical(self, classname: str) -> str | None:
        cls = self.get(classname)
        return cls.classname if cls else None

    def is_subclass(self, classname: str, ancestor: str) -> bool:
        """True when classname is ancestor or derives from it (case-insensitive)."""
        key = (classname.lower(), ancestor.lower())
        hit = self._subclass_cache.get(key)
        if hit is None:
            hit = False
            cls = self.get(classname)
            while cls is not None:
                if cls.classname.lower() == key[1]:
                    hit = True
                    break
                cls = self.get(cls.superclass) if cls.superclass else None
            self._subclass_cache[key] = hit
        return hit

    def declared(self, classname: str) -> tuple:
        """(lower-case name, name, type, is_array, reference_class) of each property,
        in declaration order: what building an instance needs, computed once."""
        key = classname.lower()
        hit = self._declared.get(key)
        if hit is None:
            hit = self._declared[key] = tuple(
                (name.lower(), name, d.type, d.is_array, d.reference_class)
                for name, d in self.get(classname).properties.items())
        return hit

    def declared_names(self, classname: str) -> frozenset:
        """Lower-case names of the class's properties, computed once."""
        key = classname.lower()
        hit = self._declared_names.get(key)
        if hit is None:
            hit = self._declared_names[key] = frozenset(low for low, *_ in self.declared(classname))
        return hit

    def property_names(self, classname: str) -> set[str]:
        return {p.lower() for p in self.get(classname).properties}

    def method(self, classname: str, methodname: str) -> pywbem.CIMMethod | None:
        cls = self.get(classname)
        if cls is None:
            return None
        for name, meth in cls.methods.items():
            if name.lower() == methodname.lower():
                return meth
        return None


@lru_cache(maxsize=4)
def load_schema(namespace: str) -> Schema:
    return Schema(namespace)
