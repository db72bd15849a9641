"""Reading method parameters: required/optional, with the array's refusal when a
required one is missing or of the wrong kind."""
from __future__ import annotations

from pywbem import CIMInstanceName

from .. import returncodes as rc
from ..returncodes import ArrayError


def req_ref(params, name: str) -> CIMInstanceName:
    value = params.get(name)
    if not isinstance(value, CIMInstanceName):
        raise ArrayError(rc.INVALID_PARAMETER, f"{name} (an object reference) is required")
    return value


def opt_ref(params, name: str) -> CIMInstanceName | None:
    value = params.get(name)
    return None if value is None else req_ref(params, name)


def opt_bool(params, name: str) -> bool:
    return bool(params.get(name) or False)


def opt_list(params, name: str) -> list:
    value = params.get(name)
    return [] if value is None else list(value)
