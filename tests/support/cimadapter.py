"""The product's CIM adapter on an array process, as the adapter and command tests use it."""
from __future__ import annotations

from adapters.cim.array import CimArray
from tests.support.arrayproc import NAMESPACE, PASSWORD, USER, ArrayProcess


def adapter(proc: ArrayProcess, **kw) -> CimArray:
    """A CimArray on that process; no real sleeping (the array's clock runs 1000x)."""
    options = {"ssl": not proc.http, "ca_file": proc.cafile, "username": USER, "password": PASSWORD,
               "namespace": NAMESPACE, "sleep": lambda s: None, "poll_s": 0.0}
    options.update(kw)
    return CimArray.connect("127.0.0.1", proc.port, **options)
