"""The service's JSON schema (docs/SERVICE.md): which arguments each call takes, checked
before the provider sees them, and the reply envelope. Used by the HTTP service and by
the in-process driver alike, so both behave the same."""
from __future__ import annotations

from typing import Any, Callable

from core.log import get_logger
from core.errors import VssError
from orchestrator.vss import VssProvider
from orchestrator.vss_types import HResult, LunInfo, VssFault

log = get_logger("vssorch.service")

SCHEMA_VERSION = 1


class BadRequest(Exception):
    """The request is not what the schema says: HTTP 400, nothing was called."""


def _str(name: str, v: Any) -> str:
    if not isinstance(v, str) or not v or len(v) > 256 or any(c < " " for c in v):
        raise BadRequest(f"{name!r} must be a non-empty one-line string")
    return v


def _int(name: str, v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 2**32:
        raise BadRequest(f"{name!r} must be an integer 0..2^32-1")
    return v


def _bool(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise BadRequest(f"{name!r} must be true or false")
    return v


def _lun(name: str, v: Any) -> LunInfo:
    try:
        return LunInfo.from_json(v)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{name!r}: {exc}") from None


def _list(of: Callable[[str, Any], Any], limit: int = 1024) -> Callable[[str, Any], list]:
    def check(name: str, v: Any) -> list:
        if not isinstance(v, list) or len(v) > limit:
            raise BadRequest(f"{name!r} must be a list of at most {limit} items")
        return [of(f"{name}[{i}]", x) for i, x in enumerate(v)]
    return check


_OPT = object()     # marks an optional argument
# call -> {argument: (checker, default or _OPT when required)}
CALLS: dict[str, dict[str, tuple[Callable, Any]]] = {
    "OnLoad": {},
    "OnUnload": {"force": (_bool, False)},
    "GetProviderCapabilities": {},
    "AreLunsSupported": {"context": (_int, _OPT), "luns": (_list(_lun), _OPT),
                         "device_names": (_list(_str), ())},
    "FillInLunInfo": {"device_name": (_str, _OPT), "lun": (_lun, _OPT)},
    "BeginPrepareSnapshot": {"set_id": (_str, _OPT), "snapshot_id": (_str, _OPT), "context": (_int, _OPT),
                             "luns": (_list(_lun), _OPT), "device_names": (_list(_str), ())},
    "EndPrepareSnapshots": {"set_id": (_str, _OPT)},
    "PreCommitSnapshots": {"set_id": (_str, _OPT)},
    "CommitSnapshots": {"set_id": (_str, _OPT)},
    "PostCommitSnapshots": {"set_id": (_str, _OPT), "snapshots_count": (_int, _OPT)},
    "PreFinalCommitSnapshots": {"set_id": (_str, _OPT)},
    "PostFinalCommitSnapshots": {"set_id": (_str, _OPT)},
    "AbortSnapshots": {"set_id": (_str, _OPT)},
    "GetTargetLuns": {"source_luns": (_list(_lun), _OPT), "device_names": (_list(_str), ()),
                      "set_id": (_str, None)},
    "LocateLuns": {"luns": (_list(_lun), _OPT)},
    "OnLunEmpty": {"lun": (_lun, _OPT), "device_name": (_str, "")},
    "OnLunStateChange": {"snapshot_luns": (_list(_lun), _OPT), "original_luns": (_list(_lun), ()),
                         "flags": (_int, 0)},
    "ResyncLuns": {"source_luns": (_list(_lun), _OPT), "target_luns": (_list(_lun), _OPT)},
    "ListSnapshots": {"set_id": (_str, None)},
}


def arguments(call: str, body: Any) -> dict:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object of arguments")
    spec = CALLS[call]
    extra = sorted(set(body) - set(spec))
    if extra:
        raise BadRequest(f"{call} takes no argument {extra[0]!r}")
    out = {}
    for name, (check, default) in spec.items():
        if name in body and not (default is None and body[name] is None):
            out[name] = check(name, body[name])
        elif default is _OPT:
            raise BadRequest(f"{call} needs argument {name!r}")
        else:
            out[name] = default
    return out


def bad_request(detail: str) -> dict:
    return {"ok": False, "code": 4001, "error": f"error 4001: bad request: {' '.join(detail.split())}"}


def dispatch(provider: VssProvider, call: str, body: Any) -> tuple[int, dict]:
    """Run one call; returns (HTTP status, reply). A VSS failure is a normal reply (200,
    ok false, with its HRESULT); 4xx means the request itself was wrong."""
    if call not in CALLS:
        return 404, {"ok": False, "code": 4001, "error": f"error 4001: no call named {call!r}"}
    try:
        kwargs = arguments(call, body)
    except BadRequest as exc:
        return 400, bad_request(str(exc))
    orch = provider.orch
    sent = orch.array.requests
    try:
        result = getattr(provider, call)(**kwargs)
        reply = {"ok": True, "hresult": HResult.S_OK.name, "hr": "0x00000000", "result": result}
    except VssFault as fault:
        reply = fault.to_json()
    except VssError as exc:         # an engine failure outside a mapped step
        reply = VssFault(HResult.VSS_E_PROVIDER_VETO, exc.detail or exc.message, exc.code).to_json()
    except Exception as exc:        # noqa: BLE001 - VSS gets an HRESULT, the log the cause
        log.error("unexpected provider error", call=call, error=f"{type(exc).__name__}: {exc}")
        reply = VssFault(HResult.VSS_E_UNEXPECTED_PROVIDER_ERROR, f"{type(exc).__name__}: {exc}", 4001).to_json()
        return 500, {**reply, "array_requests": orch.array.requests - sent}
    # Requests of this call; calls of other sets running at the same time count too.
    reply["array_requests"] = orch.array.requests - sent
    return 200, reply

