"""What a request to the embedded array does, independent of HTTP: a CIM operation in
one transaction of the array (with the faults injected for it and the clock advanced
first), and a host's block I/O to the LUNs mapped to its initiator."""
from __future__ import annotations

import threading
from collections import Counter

import structlog

from . import cimxml
from .array import Array
from .cimxml import CIMFailure
from .faults import FaultInjector
from .interop import InteropOperations, is_interop
from .operations import Operations
from .returncodes import ArrayError

log = structlog.get_logger("simulator")


class ArrayService:
    """Request handling independent of HTTP: one transaction per request."""

    def __init__(self, array: Array):
        self.array = array
        self.ops = Operations(array)
        self.interop = InteropOperations(array, self.ops)
        self.faults = FaultInjector()
        self.counts: Counter[str] = Counter()
        self.connections = 0   # accepted client connections: shows keep-alive at work
        self._count_lock = threading.Lock()

    def count(self, name: str) -> None:
        with self._count_lock:
            self.counts[name] += 1

    def handle_cim(self, req: cimxml.Request) -> tuple[bytes, str | None, float]:
        """-> (response body, fault action to apply after running, delay seconds)."""
        try:
            self.count(req.method)
            delay, faults = self.faults.hits(req.method)
            fail = next((f for f in faults if f.action == "fail"), None)
            drop = next((f for f in faults if f.action == "drop"), None)
            if fail is not None and req.kind == "extrinsic":
                return cimxml.method_response(req, fail.rc, []), None, delay
            if fail is not None:
                raise CIMFailure(cimxml.CIM_ERR_FAILED, "injected failure")
            return self._run(req), ("drop" if drop else None), delay
        except CIMFailure as failure:
            return cimxml.error_response(req, failure), None, 0.0
        except Exception:  # a bug must cost one request (rolled back), not the connection
            log.exception("request failed", method=getattr(req, "method", None))
            return cimxml.error_response(req, CIMFailure(cimxml.CIM_ERR_FAILED, "internal error")), None, 0.0

    def _run(self, req) -> bytes:
        a = self.array
        ops = self.interop if is_interop(req.namespace) else self.ops
        a.reserve_clock()
        if req.kind == "intrinsic":
            try:
                with a.store.transaction():
                    a.engine.advance()
                    result = ops.intrinsic(req)
            except ArrayError as exc:  # a lookup naming no object of this array
                raise CIMFailure(cimxml.CIM_ERR_NOT_FOUND, exc.message) from None
            return cimxml.intrinsic_response(req, result, host="localhost")
        try:
            with a.store.transaction():
                a.engine.advance()
                rc, out = ops.invoke(req)
        except ArrayError as refusal:
            log.info("method refused", method=req.method, rc=refusal.rc, reason=refusal.message)
            out = ops.typed_out(ops.method_decl(req), refusal.out)
            return cimxml.method_response(req, refusal.rc, out)
        return cimxml.method_response(req, rc, out)

    # ------------------------------------------------------------ data path
    def visible_luns(self, initiator: str) -> list[dict]:
        with self.array.store.transaction():
            host = self.array.host_of_port(initiator)
            if host is None:
                return []
            rows = self.array.db.execute(
                "SELECT v.uid, v.size, m.scsi_id FROM host_mappings m JOIN volumes v ON v.id=m.volume_id "
                "WHERE m.host_id=? ORDER BY m.scsi_id", (host["id"],)).fetchall()
            return [{"uid": r["uid"], "size": r["size"], "scsi_id": r["scsi_id"]} for r in rows]

    def io(self, uid: str, offset: int, length: int | None, data: bytes | None,
           initiator: str | None) -> bytes:
        a = self.array
        a.reserve_clock()
        with a.store.transaction():
            a.engine.advance()
            row = a.volume_by_uid(uid)
            if row is None:
                raise LookupError(f"no volume {uid}")
            if initiator is not None:
                host = a.host_of_port(initiator)
                if host is None or a.mapping_row(host["id"], row["id"]) is None:
                    raise PermissionError(f"volume {uid} is not mapped to initiator {initiator}")
            if data is None:
                return a.engine.read(row["id"], offset, length if length is not None else row["size"] - offset)
            a.engine.write(row["id"], offset, data)
            return b""
