"""Regenerate facts.json from IBM's agent MOF (not run by the suite).

    python -m tests.conformance.extract_facts /work/ref/docs/mof > tests/conformance/facts.json

Keeps only facts: for each class its superclass, whether it is an association, and
for each locally declared property and method the name, type, array-ness, key-ness,
reference class, and IN/OUT of each parameter. No descriptions or other text.
The classes kept are every IBMTSSVC_* class and all their CIM/SNIA ancestors, plus
the interop classes a WBEM server registers profiles with.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

INTEROP = ("CIM_RegisteredProfile", "CIM_ElementConformsToProfile", "CIM_Namespace",
           "CIM_ObjectManager", "CIM_ReferencedProfile", "CIM_RegisteredSubProfile",
           "CIM_SubProfileRequiresProfile", "CIM_NamespaceInManager", "CIM_HostedService",
           "CIM_ObjectManagerCommunicationMechanism", "CIM_CommMechanismForManager",
           "CIM_HostedAccessPoint", "CIM_CIMXMLCommunicationMechanism")

TOKEN = re.compile(r'''
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<chr>'(?:[^'\\]|\\.)*')
  | (?P<pragma>\#pragma[^\n]*)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<num>[-+]?[0-9][0-9a-fA-FxX.]*)
  | (?P<sym>[\[\]{}();:,=$])
''', re.X | re.S)


def tokens(text: str):
    pos = 0
    out = []
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise SyntaxError(f"cannot tokenise at {text[pos:pos + 40]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind in ("ws", "pragma"):
            continue
        out.append(m.group())
    return out


class Parser:
    def __init__(self, toks):
        self.t = toks
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def take(self, expect=None):
        tok = self.t[self.i]
        if expect is not None and tok.lower() != expect.lower():
            raise SyntaxError(f"expected {expect} got {tok} near {self.t[self.i - 5:self.i + 5]}")
        self.i += 1
        return tok

    def skip_balanced(self, open_, close):
        depth = 0
        while True:
            tok = self.take()
            if tok == open_:
                depth += 1
            elif tok == close:
                depth -= 1
                if depth == 0:
                    return

    def qualifiers(self) -> dict:
        """[Name, Name(value), Name{...}] -> {lower name: raw value tokens or True}."""
        quals = {}
        if self.peek() != "[":
            return quals
        self.take("[")
        while self.peek() != "]":
            name = self.take()
            value = [True]
            if self.peek() == "(":
                start = self.i
                self.skip_balanced("(", ")")
                value = self.t[start + 1:self.i - 1]
            elif self.peek() == "{":
                start = self.i
                self.skip_balanced("{", "}")
                value = self.t[start + 1:self.i - 1]
            quals[name.lower()] = value
            if self.peek() == ",":
                self.take()
        self.take("]")
        return quals

    def parse(self):
        classes = []
        while self.peek() is not None:
            quals = self.qualifiers()
            word = self.take()
            if word.lower() == "qualifier" or word.lower() == "instance":
                while self.take() != ";":
                    pass
                continue
            if word.lower() != "class":
                raise SyntaxError(f"unexpected {word} near {self.t[self.i - 5:self.i + 5]}")
            classes.append(self.klass(quals))
        return classes

    def klass(self, quals):
        name = self.take()
        sup = None
        if self.peek() == ":":
            self.take()
            sup = self.take()
        self.take("{")
        props, methods = [], []
        while self.peek() != "}":
            mq, typ, ref, mname = self.declaration()
            if self.peek() == "(":
                methods.append(self.method(mname, typ))
                continue
            array = self.array_suffix()
            if self.peek() == "=":
                while self.peek() != ";":
                    if self.peek() in ("{", "("):
                        self.skip_balanced(self.peek(), "}" if self.peek() == "{" else ")")
                    else:
                        self.take()
            self.take(";")
            prop = {"name": mname, "type": typ, "array": array}
            if ref:
                prop["ref"] = ref
            if "key" in mq:
                prop["key"] = True
            props.append(prop)
        self.take("}")
        self.take(";")
        out = {"name": name, "superclass": sup, "properties": props, "methods": methods}
        if "association" in quals:
            out["association"] = True
        if "abstract" in quals and quals["abstract"] != ["false"]:
            out["abstract"] = True
        return out

    def declaration(self):
        """[qualifiers] type [REF] name -> (qualifiers, type, reference class, name)."""
        quals = self.qualifiers()
        typ = self.take()
        ref = None
        if self.peek().lower() == "ref":
            self.take()
            ref, typ = typ, "reference"
        return quals, typ, ref, self.take()

    def array_suffix(self) -> bool:
        if self.peek() != "[":
            return False
        self.skip_balanced("[", "]")
        return True

    def method(self, name, rtype):
        self.take("(")
        params = []
        while self.peek() != ")":
            pq, typ, ref, pname = self.declaration()
            array = self.array_suffix()
            if self.peek() == "=":
                while self.peek() not in (",", ")"):
                    self.take()
            inn = pq.get("in", [True]) != ["false"] if "in" in pq else ("out" not in pq)
            out = "out" in pq and pq["out"] != ["false"]
            param = {"name": pname, "type": typ, "array": array, "in": inn, "out": out}
            if ref:
                param["ref"] = ref
            params.append(param)
            if self.peek() == ",":
                self.take()
        self.take(")")
        self.take(";")
        return {"name": name, "type": rtype, "params": params}


def load(root: Path) -> dict:
    found = {}
    files = sorted(root.glob("*.mof")) + sorted((root / "CIMFinal214").rglob("*.mof")) \
        + sorted((root / "SNIA").rglob("*.mof"))
    for path in files:
        text = path.read_text(encoding="latin-1")
        for cls in Parser(tokens(text)).parse():
            found.setdefault(cls["name"].lower(), cls)  # IBM files first: they win
    return found


def main(root: str) -> None:
    found = load(Path(root))
    keep = set()

    def add(name):
        while name and name.lower() not in keep:
            keep.add(name.lower())
            cls = found[name.lower()]
            for p in cls["properties"]:
                if p.get("ref"):
                    add(p["ref"])
            for m in cls["methods"]:
                for p in m["params"]:
                    if p.get("ref"):
                        add(p["ref"])
            name = cls["superclass"]

    for key, cls in found.items():
        if key.startswith("ibmtssvc_"):
            add(cls["name"])
    for name in INTEROP:
        add(name)
    facts = {"source": "IBM SVC/Storwize CIM agent 6.4 MOF with DMTF CIM 2.14 and SNIA classes",
             "classes": {found[k]["name"]: {kk: vv for kk, vv in found[k].items() if kk != "name"}
                         for k in sorted(keep)}}
    # One class a line: small diffs when the facts are regenerated.
    sys.stdout.write('{"source": %s,\n "classes": {\n' % json.dumps(facts["source"]))
    rows = [f"  {json.dumps(name)}: {json.dumps(body, sort_keys=True)}"
            for name, body in facts["classes"].items()]
    sys.stdout.write(",\n".join(rows) + "\n }}\n")


if __name__ == "__main__":
    main(sys.argv[1])
