"""ExecQuery: the subset of WQL / DMTF:CQL the embedded array understands.

Query languages: "WQL", "DMTF:CQL" and "CQL" (one grammar for all three). Syntax:

    SELECT * | Prop[, Prop...] FROM ClassName [WHERE condition]

    condition := condition OR condition | condition AND condition | NOT condition
               | ( condition )
               | Prop op literal          op: = <> != < <= > >=
               | Prop IN (literal[, literal...])
               | Prop IS [NOT] NULL
    literal   := 'text' (a quote doubled inside) | "text" | integer | TRUE | FALSE

Keywords and property/class names are case-insensitive; string comparisons are too
(as WQL's are), so a UID matches in either case. ClassName is polymorphic: a DMTF
class selects the vendor subclasses' instances. On an array property `=` and `IN`
match when any element matches. The select list limits the returned properties.

Cost: `Name = '...'`, `UniqueID = '...'`, `ElementName = '...'` or `DeviceID = '...'`
on a volume class, alone, OR-ed together or with IN (up to 1,000 values), and ANDed
with anything else, are answered from the array's indexes: asking for 64 volumes by
UID on a 10,000-volume array builds those 64 instances only. The same holds for
localcopy mappings by `SystemElementID`, `SyncedElementID`, `ElementName` or `Name`,
for consistency groups by `ElementName`, for hosts' StorageHardwareIDs by
`ElementName`, `PortWWN` or `iSCSIName`, for host views
(ProtocolController) by `ElementName` or `Name`, and for host mappings
(SystemVolumeController) by `UniqueID` (the volume's UID). Any other condition
enumerates the class and filters. Errors: CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED (14),
CIM_ERR_INVALID_QUERY (15).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .cimxml import CIMFailure

CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED = 14
CIM_ERR_INVALID_QUERY = 15
LANGUAGES = {"wql", "dmtf:cql", "cql"}
MAX_QUERY = 64 << 10
MAX_IN_VALUES = 1000

_TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^']|'')*'|"[^"]*")
  | (?P<num>[+-]?\d+)(?![\w.])
  | (?P<op><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),*])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
)""", re.X)
_KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "is", "null", "true", "false"}


@dataclass(frozen=True)
class Query:
    properties: tuple[str, ...] | None     # None: SELECT *
    classname: str
    where: tuple | None                     # expression tree, see _Parser


def parse(language: str, text: str) -> Query:
    if (language or "").strip().lower() not in LANGUAGES:
        raise CIMFailure(CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED,
                         f"query language {language!r} is not supported (WQL, DMTF:CQL)")
    if not text or len(text) > MAX_QUERY:
        raise CIMFailure(CIM_ERR_INVALID_QUERY, "the query is empty or too long")
    return _Parser(text).query()


class _Parser:
    """Recursive descent over the tokens; expression nodes are tuples:
    ("or", [..]), ("and", [..]), ("not", x), ("cmp", prop, op, value),
    ("in", prop, [values]), ("null", prop, is_null)."""

    def __init__(self, text: str):
        self.tokens: list[tuple[str, object]] = []
        pos = 0
        text = text.rstrip().rstrip(";")
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise CIMFailure(CIM_ERR_INVALID_QUERY, f"cannot read the query at {text[pos:pos + 20]!r}")
            pos = m.end()
            kind = m.lastgroup
            value = m.group(kind)
            if kind == "str":
                value = value[1:-1].replace("''", "'") if value[0] == "'" else value[1:-1]
            elif kind == "num":
                value = int(value)
            elif kind == "word" and value.lower() in _KEYWORDS:
                kind, value = "kw", value.lower()
            self.tokens.append((kind, value))
        self.i = 0

    # ------------------------------------------------------------ tokens
    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", None)

    def _take(self, kind: str, value=None):
        tok = self._peek()
        if tok[0] != kind or (value is not None and tok[1] != value):
            want = value if value is not None else kind
            raise CIMFailure(CIM_ERR_INVALID_QUERY, f"expected {want} but found {tok[1] or 'the end'}")
        self.i += 1
        return tok[1]

    def _at(self, kind: str, value=None) -> bool:
        tok = self._peek()
        return tok[0] == kind and (value is None or tok[1] == value)

    # ------------------------------------------------------------ grammar
    def query(self) -> Query:
        self._take("kw", "select")
        if self._at("punct", "*"):
            self.i += 1
            props = None
        else:
            props = [self._take("word")]
            while self._at("punct", ","):
                self.i += 1
                props.append(self._take("word"))
            props = tuple(props)
        self._take("kw", "from")
        classname = self._take("word")
        where = None
        if self._at("kw", "where"):
            self.i += 1
            where = self._or()
        if not self._at("end"):
            raise CIMFailure(CIM_ERR_INVALID_QUERY, f"unexpected {self._peek()[1]!r} after the query")
        return Query(props, classname, where)

    def _or(self):
        parts = [self._and()]
        while self._at("kw", "or"):
            self.i += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def _and(self):
        parts = [self._not()]
        while self._at("kw", "and"):
            self.i += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def _not(self):
        if self._at("kw", "not"):
            self.i += 1
            return ("not", self._not())
        if self._at("punct", "("):
            self.i += 1
            inner = self._or()
            self._take("punct", ")")
            return inner
        prop = self._take("word")
        if self._at("op"):
            op = self._take("op")
            return ("cmp", prop, "<>" if op == "!=" else op, self._literal())
        if self._at("kw", "in"):
            self.i += 1
            self._take("punct", "(")
            values = [self._literal()]
            while self._at("punct", ","):
                self.i += 1
                values.append(self._literal())
            self._take("punct", ")")
            if len(values) > MAX_IN_VALUES:
                raise CIMFailure(CIM_ERR_INVALID_QUERY, f"more than {MAX_IN_VALUES} values in IN")
            return ("in", prop, values)
        if self._at("kw", "is"):
            self.i += 1
            negate = self._at("kw", "not")
            if negate:
                self.i += 1
            self._take("kw", "null")
            return ("null", prop, not negate)
        raise CIMFailure(CIM_ERR_INVALID_QUERY, f"expected a comparison after {prop}")

    def _literal(self):
        kind, value = self._peek()
        if kind in ("str", "num"):
            self.i += 1
            return value
        if kind == "kw" and value in ("true", "false"):
            self.i += 1
            return value == "true"
        raise CIMFailure(CIM_ERR_INVALID_QUERY, f"expected a literal but found {value or 'the end'}")


# ---------------------------------------------------------------- evaluation
def properties_used(node) -> set[str]:
    if node is None:
        return set()
    if node[0] in ("or", "and"):
        return set().union(*(properties_used(n) for n in node[1]))
    if node[0] == "not":
        return properties_used(node[1])
    return {node[1].lower()}


def matches(inst, node) -> bool:
    if node is None:
        return True
    kind = node[0]
    if kind == "or":
        return any(matches(inst, n) for n in node[1])
    if kind == "and":
        return all(matches(inst, n) for n in node[1])
    if kind == "not":
        return not matches(inst, node[1])
    value = inst.get(node[1])
    if kind == "null":
        return (value is None) == node[2]
    if value is None:
        return False
    values = value if isinstance(value, list) else [value]
    if kind == "in":
        return any(_compare(v, "=", lit) for v in values for lit in node[2])
    return any(_compare(v, node[2], node[3]) for v in values)


def _compare(value, op: str, literal) -> bool:
    if isinstance(literal, bool) or isinstance(value, bool):
        if not (isinstance(literal, bool) and isinstance(value, bool)):
            return False
        a, b = value, literal
    elif isinstance(literal, int):
        try:
            a, b = int(value), literal
        except (TypeError, ValueError):
            return False
    else:
        a, b = str(value).lower(), literal.lower()
    if op == "=":
        return a == b
    if op == "<>":
        return a != b
    if isinstance(a, bool):
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def index_terms(node) -> list[tuple[str, list]] | None:
    """[(property, values), ...] such that every match has one of these properties
    equal to one of its values, when the condition says so plainly; None when only
    a full scan can tell."""
    if node is None:
        return None
    kind = node[0]
    if kind == "cmp" and node[2] == "=" and not isinstance(node[3], bool):
        return [(node[1].lower(), [node[3]])]
    if kind == "in":
        return [(node[1].lower(), [v for v in node[2] if not isinstance(v, bool)])]
    if kind == "or":
        parts = [index_terms(n) for n in node[1]]
        return [t for p in parts for t in p] if all(parts) else None
    if kind == "and":
        return next((t for t in map(index_terms, node[1]) if t), None)
    return None
