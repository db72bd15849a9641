"""A crafted CIM agent for adapter tests: a small real HTTP server answering with the
CIM-XML a test gives it (missing properties, wrong types, garbage, HTTP errors), the
fixtures `agent` and `cim` (a CimArray talking to it), and builders for its replies."""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest

from adapters.cim.array import CimArray

NS = '<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="ibm"/></LOCALNAMESPACEPATH>'


def prop(name, value, cimtype="string"):
    if isinstance(value, list):
        values = "".join(f"<VALUE>{escape(str(v))}</VALUE>" for v in value)
        return f'<PROPERTY.ARRAY NAME="{name}" TYPE="{cimtype}"><VALUE.ARRAY>{values}</VALUE.ARRAY></PROPERTY.ARRAY>'
    return f'<PROPERTY NAME="{name}" TYPE="{cimtype}"><VALUE>{escape(str(value))}</VALUE></PROPERTY>'


def instance_name(cls, keys):
    bindings = "".join(f'<KEYBINDING NAME="{k}"><KEYVALUE VALUETYPE="string">{escape(v)}</KEYVALUE></KEYBINDING>'
                       for k, v in keys.items())
    return f'<INSTANCENAME CLASSNAME="{cls}">{bindings}</INSTANCENAME>'


def named_instance(cls, keys, *props):
    return (f"<VALUE.NAMEDINSTANCE>{instance_name(cls, keys)}"
            f'<INSTANCE CLASSNAME="{cls}">{"".join(props)}</INSTANCE></VALUE.NAMEDINSTANCE>')


def volume(*props):
    return named_instance("IBMTSSVC_StorageVolume", {"CreationClassName": "IBMTSSVC_StorageVolume",
                                                     "DeviceID": "7", "SystemName": "C:0"}, *props)


SCS_NAME = instance_name("IBMTSSVC_StorageConfigurationService", {"Name": "StorageConfigurationService"})
GOOD_VOLUME = [prop("ElementName", "v7"), prop("Name", "60050760008d89c0d000000000000007"),
               prop("NumberOfBlocks", 1024, "uint64"), prop("BlockSize", 1, "uint64")]


class Agent(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: dict[str, str | int] = {}     # CIM operation or method -> body, or an HTTP status


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        op = self.headers.get("CIMMethod", "")
        reply = self.server.replies.get(op, "")
        if isinstance(reply, int):
            self.send_response(reply)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        msg_id = re.search(r'MESSAGE ID="([^"]+)"', body).group(1)
        kind = "METHODRESPONSE" if "<METHODCALL" in body else "IMETHODRESPONSE"
        if reply.startswith("<?garbage"):
            text = reply
        else:
            text = (f'<?xml version="1.0" encoding="utf-8" ?><CIM CIMVERSION="2.0" DTDVERSION="2.0">'
                    f'<MESSAGE ID="{msg_id}" PROTOCOLVERSION="1.0"><SIMPLERSP><{kind} NAME="{op}">'
                    f"{reply}</{kind}></SIMPLERSP></MESSAGE></CIM>")
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", 'application/xml; charset="utf-8"')
        self.send_header("CIMOperation", "MethodResponse")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def agent():
    server = Agent()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def cim(agent):
    return CimArray.connect("127.0.0.1", agent.server_address[1], ssl=False, ca_file=None, username="u",
                            password="hostile-secret", namespace="root/ibm", sleep=lambda s: None, poll_s=0.0)


def enum(*instances):
    return f"<IRETURNVALUE>{''.join(instances)}</IRETURNVALUE>"


def queried(*instances):
    """ExecQuery's reply: the instances with their whole paths."""
    return enum(*(i.replace("<VALUE.NAMEDINSTANCE>", "<VALUE.OBJECTWITHPATH><INSTANCEPATH><NAMESPACEPATH>"
                            f"<HOST>x</HOST>{NS}</NAMESPACEPATH>")
                  .replace("</INSTANCENAME>", "</INSTANCENAME></INSTANCEPATH>", 1)
                  .replace("</VALUE.NAMEDINSTANCE>", "</VALUE.OBJECTWITHPATH>") for i in instances))


def one_line_911(exc_info, *words):
    text = str(exc_info.value)
    assert exc_info.value.code == 911 and "\n" not in text and "hostile-secret" not in text
    for word in words:
        assert word in text
    return text
