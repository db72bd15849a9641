"""The real agent's schema (facts.json, extracted from IBM's 6.4 MOF by extract_facts.py)
and our MOF, both reduced to comparable signatures, and the differences between them."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

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


def _sig(obj, ref=None) -> dict:
    return {"name": obj.name, "type": obj.type, "array": bool(obj.is_array),
            "ref": getattr(obj, "reference_class", None) or ref}


def _is_ext(qualifiers) -> bool:
    return "Extension" in qualifiers  # pywbem's qualifier dicts ignore case


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
    if bool(cls.qualifiers.get("Association") and cls.qualifiers["Association"].value) \
            != bool(facts.get("association")):
        out.append(f"{name}: association flag differs from the real class")
    props, meths = _real_resolved(name)
    for pname, prop in cls.properties.items():
        if _is_ext(prop.qualifiers):
            continue
        want = props.get(pname.lower())
        if want is None:
            out.append(f"{name}.{pname}: no such property")
            continue
        got = _sig(prop)
        for field in ("name", "type", "array", "ref"):
            if got[field] != want.get(field, None if field == "ref" else want.get(field)):
                out.append(f"{name}.{pname}: {field} {got[field]!r} (real {want.get(field)!r})")
        key = bool(prop.qualifiers.get("Key") and prop.qualifiers["Key"].value)
        if key != bool(want.get("key")):
            out.append(f"{name}.{pname}: Key {key} (real {bool(want.get('key'))})")
    for mname, meth in cls.methods.items():
        if _is_ext(meth.qualifiers):
            continue
        want = meths.get(mname.lower())
        if want is None:
            out.append(f"{name}.{mname}(): no such method")
            continue
        if meth.name != want["name"] or meth.return_type != want["type"]:
            out.append(f"{name}.{mname}(): returns {meth.return_type} (real {want['type']})")
        params = {p["name"].lower(): p for p in want["params"]}
        for pname, param in meth.parameters.items():
            if _is_ext(param.qualifiers):
                continue
            rp = params.get(pname.lower())
            if rp is None:
                out.append(f"{name}.{mname}({pname}): no such parameter")
                continue
            got = _sig(param)
            got["in"] = bool(param.qualifiers["In"].value) if "In" in param.qualifiers else True
            got["out"] = bool(param.qualifiers["Out"].value) if "Out" in param.qualifiers else False
            for field in ("name", "type", "array", "ref", "in", "out"):
                if got[field] != rp.get(field):
                    out.append(f"{name}.{mname}({pname}): {field} {got[field]!r} (real {rp.get(field)!r})")
        for rp in want["params"]:
            if rp["out"] and rp["name"].lower() not in {p.lower() for p in meth.parameters}:
                out.append(f"{name}.{mname}({rp['name']}): real OUT parameter not declared")
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
