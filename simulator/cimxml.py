"""CIM-XML on the wire: decode a request into plain Python, encode a response.

pywbem's own tuple parser reads requests (its server-side parse functions); responses
are written as text by xmlwrite.py, element for element what pywbem's CIM-XML element
classes would write (checked in tests/array/test_xmlwrite.py), without a DOM.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from pywbem import CIMClass, CIMClassName, CIMInstance, CIMInstanceName, CIMQualifierDeclaration
from pywbem._cim_obj import cimvalue
from pywbem._tupleparse import TupleParser

from pywbem import CIMError, ParseError

from . import xmlwrite as W

CIM_ERR_FAILED = 1
CIM_ERR_INVALID_NAMESPACE = 3
CIM_ERR_INVALID_PARAMETER = 4
CIM_ERR_INVALID_CLASS = 5
CIM_ERR_NOT_FOUND = 6
CIM_ERR_NOT_SUPPORTED = 7
CIM_ERR_METHOD_NOT_AVAILABLE = 16
CIM_ERR_METHOD_NOT_FOUND = 17
SCOPES = ("CLASS", "ASSOCIATION", "REFERENCE", "PROPERTY", "METHOD", "PARAMETER", "INDICATION")


class CIMFailure(Exception):
    """A request the array answers with a CIM ERROR element."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass
class Request:
    message_id: str
    kind: str                      # "intrinsic" or "extrinsic"
    method: str
    namespace: str
    params: dict = field(default_factory=dict)        # intrinsic: name -> value
    target: CIMInstanceName | CIMClassName | None = None
    raw_params: list = field(default_factory=list)    # extrinsic: (name, paramtype, raw)


class BadRequest(Exception):
    """A request refused at the HTTP level (DSP0200): status and CIMError header value."""

    def __init__(self, status: int, cimerror: str, detail: str):
        super().__init__(detail)
        self.status, self.cimerror, self.detail = status, cimerror, detail


def tupletree(body: bytes) -> tuple:
    """The request as pywbem's tuple tree, (name, attributes, children) with text
    children as strings: what pywbem's xml_to_tupletree_sax builds, read by expat
    directly (the SAX layer on top was half of decoding a request)."""
    stack: list[tuple] = []
    root: list[tuple] = []

    def start(name, attrs):
        node = (name, attrs, [])
        (stack[-1][2] if stack else root).append(node)
        stack.append(node)

    def text(data):
        if not stack:               # whitespace around the root element
            return
        children = stack[-1][2]
        if children and type(children[-1]) is str:
            children[-1] += data
        else:
            children.append(data)

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: stack.pop()
    parser.CharacterDataHandler = text
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise BadRequest(400, "request-not-well-formed", f"the request is not well-formed XML: {exc}") from None
    return root[0]


def decode(body: bytes) -> Request:
    tree = tupletree(body)
    try:
        cim = TupleParser().parse_cim(tree)
        _, attrs, (kind, _, call) = cim[2]
    except (ParseError, CIMError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise BadRequest(400, "request-not-valid", one_line(exc)) from None
    if kind == "MULTIREQ":
        raise BadRequest(501, "multiple-requests-unsupported", "this agent answers one operation a request")
    if kind != "SIMPLEREQ":
        raise BadRequest(400, "request-not-valid", f"{kind} is not a CIM operation request")
    message_id = attrs["ID"]
    if call[0] == "IMETHODCALL":
        _, call_attrs, namespace, params = call
        return Request(message_id, "intrinsic", call_attrs["NAME"], namespace, dict(params))
    _, call_attrs, path, params = call
    return Request(message_id, "extrinsic", call_attrs["NAME"], path.namespace,
                   target=path, raw_params=params)


def one_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def typed_param(raw, cimtype: str, is_array: bool):
    """A raw parsed PARAMVALUE -> a value of the declared type, or ValueError."""
    if raw is None:
        return None
    if cimtype == "reference":
        if is_array:
            if not isinstance(raw, list) or not all(isinstance(r, CIMInstanceName) for r in raw):
                raise ValueError("expected an array of references")
        elif not isinstance(raw, CIMInstanceName):
            raise ValueError("expected a reference")
        return raw
    if is_array != isinstance(raw, list):
        raise ValueError("expected an array" if is_array else "expected a single value")
    if isinstance(raw, list):
        return [typed_param(r, cimtype, False) for r in raw]
    if not isinstance(raw, str):
        raise ValueError("expected a simple value")
    if cimtype == "boolean":  # pywbem's cimvalue() would take any non-empty text as true
        text = raw.strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"{raw!r} is not a boolean")
        return text == "true"
    return cimvalue(raw, cimtype)


# A NULL property, an empty array or an empty string is an empty element, which
# xmlwrite (like pywbem) writes self-closed; sblim's wbemcli cannot parse that form,
# so the reply carries an open/close pair (the same XML). "/>" ends an empty element
# and nothing else: xmlwrite escapes ">" in text and attributes.
_OPENED = frozenset({"PROPERTY", "PROPERTY.ARRAY", "PROPERTY.REFERENCE", "VALUE", "VALUE.ARRAY"})


def _open_empty(xml: str) -> str:
    parts = xml.split("/>")
    out = []
    for part in parts[:-1]:
        tag = part[part.rfind("<") + 1:].split(" ", 1)[0]
        out.append(f"{part}></{tag}>" if tag in _OPENED else f"{part}/>")
    out.append(parts[-1])
    return "".join(out)


def _envelope(message_id: str, response: str) -> bytes:
    response = _open_empty(response)
    # Some clients (sblim wbemcli) insist on the XML declaration.
    return (f'<?xml version="1.0" encoding="utf-8" ?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.0">'
            f'<MESSAGE ID="{W.attr(message_id)}" PROTOCOLVERSION="1.0"><SIMPLERSP>{response}'
            f'</SIMPLERSP></MESSAGE></CIM>').encode("utf-8")


def _response(tag: str, method: str, body: str | None) -> str:
    return W.element(tag, f' NAME="{W.attr(method)}"', body)


def error_response(req: Request, failure: CIMFailure) -> bytes:
    err = f'<ERROR CODE="{failure.status}" DESCRIPTION="{W.attr(failure.description)}"/>'
    tag = "IMETHODRESPONSE" if req.kind == "intrinsic" else "METHODRESPONSE"
    return _envelope(req.message_id, _response(tag, req.method, err))


def _scoped(decl: CIMQualifierDeclaration) -> CIMQualifierDeclaration:
    """The declaration with its scopes as DSP0201's SCOPE element has them: no ANY
    attribute (the MOF's Scope(any) means every scope)."""
    scopes = {k: v for k, v in decl.scopes.items() if k.upper() != "ANY"}
    if any(v for k, v in decl.scopes.items() if k.upper() == "ANY"):
        scopes = dict.fromkeys(SCOPES, True)
    decl = decl.copy()
    decl.scopes = scopes
    return decl


def method_response(req: Request, rc: int, out: list[tuple[str, str, object]]) -> bytes:
    """out: (name, CIM type, value); arrays of references get type 'reference'."""
    body = [f'<RETURNVALUE PARAMTYPE="uint32"><VALUE>{rc}</VALUE></RETURNVALUE>']
    for name, cimtype, value in out:
        if value is None:
            continue
        body.append(f'<PARAMVALUE NAME="{W.attr(name)}" PARAMTYPE="{cimtype}">'
                    f'{W.typed_value(value, cimtype)}</PARAMVALUE>')
    return _envelope(req.message_id, _response("METHODRESPONSE", req.method, "".join(body)))


_WITH_PATH = ("Associators", "References", "ExecQuery")
_NAMES_WITH_PATH = ("AssociatorNames", "ReferenceNames")


def _item(req: Request, obj, host: str) -> str:
    if isinstance(obj, CIMInstance):
        if req.method in _WITH_PATH:
            return (f"<VALUE.OBJECTWITHPATH>{W.instance_path(obj.path, host=host)}"
                    f"{W.instance(obj, ignore_path=True)}</VALUE.OBJECTWITHPATH>")
        if req.method == "GetInstance":
            return W.instance(obj, ignore_path=True)
        # EnumerateInstances: VALUE.NAMEDINSTANCE (path without namespace)
        return (f"<VALUE.NAMEDINSTANCE>{W.instance_name(obj.path)}"
                f"{W.instance(obj, ignore_path=True)}</VALUE.NAMEDINSTANCE>")
    if isinstance(obj, CIMInstanceName):
        if req.method in _NAMES_WITH_PATH:
            return f"<OBJECTPATH>{W.instance_path(obj, host=host)}</OBJECTPATH>"
        return W.instance_name(obj)
    if isinstance(obj, CIMClassName):
        if req.method in _NAMES_WITH_PATH:
            return f"<OBJECTPATH>{W.class_path(obj, host=host)}</OBJECTPATH>"
        return W.class_name(obj.classname)
    if isinstance(obj, CIMClass):
        if req.method in ("Associators", "References"):
            path = W.class_path(CIMClassName(obj.classname, namespace=req.namespace, host=host))
            return f"<VALUE.OBJECTWITHPATH>{path}{W.klass(obj)}</VALUE.OBJECTWITHPATH>"
        return W.klass(obj)
    if isinstance(obj, CIMQualifierDeclaration):
        return W.qualifier_declaration(_scoped(obj))
    if isinstance(obj, str):
        return W.class_name(obj)
    raise TypeError(f"cannot encode {type(obj).__name__}")


def intrinsic_response(req: Request, result, host: str) -> bytes:
    """result: None, or a list of instances / names / classes / qualifier declarations."""
    if result is None:
        return _envelope(req.message_id, _response("IMETHODRESPONSE", req.method, None))
    items = "".join(_item(req, obj, host) for obj in result)
    return _envelope(req.message_id, _response("IMETHODRESPONSE", req.method, W.element("IRETURNVALUE", "", items)))
