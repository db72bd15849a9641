"""The real agent's schema (facts.json, extracted from IBM's 6.4 MOF by extract_facts.py)
and our MOF, both reduced to comparable signatures, and the differences between them."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pywbem import CIMProperty
from pywbem_mock import FakedWBEMConnection

from simulator.schema import MOF

HERE = Path(__file__).parent
# Our only additions: the later-firmware features the manual needs. Each is also marked
# in the MOF with the Extension qualifier, whose value gives the reason.
EXTENSIONS = json.loads((HERE / "extensions.json").read_text())["allowed"]


@lru_cache(maxsize=1)
def real() -> dict:
    return json.loads((HERE / "facts.json").read_text())["classes"]


@lru_cache(maxsize=1)
def ours() -> dict:
    """Our MOF's classes as pywbem declares them (local members only, not inherited)."""
    repo = FakedWBEMConnection(default_namespace="root/conformance")
    repo.compile_mof_file(str(MOF), namespace="root/conformance")
    return {name: repo.GetClass(name, LocalOnly=True, IncludeQualifiers=True)
            for name in repo.EnumerateClassNames(DeepInheritance=True)}


def _real_resolved(name: str) -> tuple[dict, dict]:
    """(properties, methods) of a real class with inherited members, keyed by lower name."""
    cls = real()[name]
    props, meths = ({}, {}) if not cls["superclass"] else _real_resolved(cls["superclass"])
    props, meths = dict(props), dict(meths)
    for p in cls["properties"]:
        old = props.get(p["name"].lower(), {})
        # a local override keeps the Key of the overridden property
        props[p["name"].lower()] = {**p, "key": p.get("key", False) or old.get("key", False)}
    for m in cls["methods"]:
        meths[m["name"].lower()] = m
    return props, meths


def _is_ext(qualifiers) -> bool:
    return "Extension" in qualifiers  # pywbem's qualifier dicts ignore case


def _flag(qualifiers, name: str, default: bool) -> bool:
    return bool(qualifiers[name].value) if name in qualifiers else default


def _sig(obj) -> dict:
    """A property's or parameter's signature in the facts' terms."""
    sig = {"name": obj.name, "type": obj.type, "array": bool(obj.is_array),
           "ref": getattr(obj, "reference_class", None)}
    if isinstance(obj, CIMProperty):
        sig["key"] = _flag(obj.qualifiers, "Key", False)
    else:
        sig["in"], sig["out"] = _flag(obj.qualifiers, "In", True), _flag(obj.qualifiers, "Out", False)
    return sig


def _compare(where: str, declared: dict, real_members: dict) -> list[str]:
    """Each declared member (name -> pywbem object) against the real ones (lower name ->
    facts), extensions skipped."""
    out = []
    for name, obj in declared.items():
        if _is_ext(obj.qualifiers):
            continue
        want = real_members.get(name.lower())
        if want is None:
            out.append(f"{where}{name}: not in the real schema")
            continue
        for field, value in _sig(obj).items():
            real_value = bool(want.get(field)) if field == "key" else want.get(field)
            if value != real_value:
                out.append(f"{where}{name}: {field} {value!r} (real {want.get(field)!r})")
    return out


def class_differences(name: str) -> list[str]:
    """Every way our class `name` differs from the real schema, as readable lines;
    declarations marked Extension are skipped here (checked against EXTENSIONS)."""
    cls = ours()[name]
    if name not in real():
        return [] if _is_ext(cls.qualifiers) else [f"{name}: no such class in the real schema"]
    facts = real()[name]
    out = []
    if (cls.superclass or None) != facts["superclass"]:
        out.append(f"{name}: superclass {cls.superclass} (real {facts['superclass']})")
    if _flag(cls.qualifiers, "Association", False) != bool(facts.get("association")):
        out.append(f"{name}: association flag differs from the real class")
    props, meths = _real_resolved(name)
    out += _compare(f"{name}.", cls.properties, props)
    for mname, meth in cls.methods.items():
        want = meths.get(mname.lower())
        if _is_ext(meth.qualifiers):
            continue
        if want is None or meth.return_type != want["type"]:
            out.append(f"{name}.{mname}(): {'no such method' if want is None else 'return type differs'}")
            continue
        out += _compare(f"{name}.{mname}() parameter ", meth.parameters, {p["name"].lower(): p for p in want["params"]})
        declared = {p.lower() for p in meth.parameters}
        out += [f"{name}.{mname}({p['name']}): real OUT parameter not declared"
                for p in want["params"] if p["out"] and p["name"].lower() not in declared]
    return out


def extension_reasons() -> dict[tuple[str, ...], str]:
    """(class[, member[, parameter]]) -> reason, of every declaration our MOF marks as
    an extension (the Extension qualifier's value)."""
    reasons = {}
    for name, cls in ours().items():
        for target, quals in [((name,), cls.qualifiers)] \
                + [((name, p), v.qualifiers) for p, v in cls.properties.items()] \
                + [((name, m), v.qualifiers) for m, v in cls.methods.items()] \
                + [((name, m, p), v.qualifiers) for m, meth in cls.methods.items()
                   for p, v in meth.parameters.items()]:
            if "Extension" in quals:
                reasons[target] = quals["Extension"].value
    return reasons
