"""From what the CIM agent said (or failed to say) to the manual's error codes.

The manual's table is core/errors.py; the few codes this adapter raises are named
here. Every code below is one of the manual's.
"""
from __future__ import annotations

import ssl

import pywbem
import urllib3

from core.errors import ArrayCallError, causes

BAD_CREDENTIALS = 5
BAD_CONTROLLER = 200          # AssignVol: invalid controller (host) WWPN
BAD_VOLUME = 201              # AssignVol: invalid volume serial
EMPTY_PAIRS = 400
ATTACH_NOTHING = 401
ATTACH_FAILED = 402
NO_SUCH_SYNC = 501            # withdraw: no such mapping / invalid parameter
VOLUME_OFFLINE = 512
NO_SUCH_MCS = 702
NO_SUCH_GROUP = 711
RESTORE_PREPARE = 720
RESTORE_START = 730
AGENT_BROKEN = 911
CANNOT_CONNECT = 3002
NO_CONFIG_SERVICE = 3003
NO_TARGET = 3007
ASSIGN_FAILED = 3008
WITHDRAW_FAILED = 3009
INTERNAL = 4001
TAKEN = 32816

# Return codes of the SVC-family agent. Device errors are 36864 + n, one per CMMVC
# message (the agent's deviceerrors.txt).
RC_INVALID_PARAMETER = 5
RC_VOLUME_OFFLINE = 37161          # CMMVC5782E the object specified is offline
RC_FC_TARGET_IS_TARGET = 38869     # CMMVC6247E the target is already a mapping's target
RC_FC_STOP_IDLE = 38830            # CMMVC5910E not stopped: idle
RC_FC_STOP_STOPPED = 38832         # CMMVC5912E not stopped: already stopped
RC_INVALID_LU, RC_INVALID_INITIATOR = 4097, 4098

# rc -> code, per method, where a return code has a more precise manual code than the
# method's own failure code.
_BY_METHOD: dict[str, dict[int, int]] = {
    "ExposePaths": {RC_INVALID_LU: BAD_VOLUME, RC_INVALID_INITIATOR: BAD_CONTROLLER},
    "HidePaths": {RC_INVALID_LU: BAD_VOLUME, RC_INVALID_INITIATOR: BAD_CONTROLLER},
    "ModifySynchronization": {RC_INVALID_PARAMETER: NO_SUCH_SYNC},
    "GetDependentMappingNames": {RC_INVALID_PARAMETER: NO_SUCH_SYNC},
    "AttachReplicas": {RC_FC_TARGET_IS_TARGET: TAKEN},
}
_ANY_METHOD = {RC_VOLUME_OFFLINE: VOLUME_OFFLINE}


def code_for_rc(method: str, rc: int, default: int) -> int:
    """The manual's code for a method's failing return code."""
    return _BY_METHOD.get(method, {}).get(rc) or _ANY_METHOD.get(rc) or default


def one_line(text: object, limit: int = 200) -> str:
    return " ".join(str(text).split())[:limit]


def is_tls_failure(exc: BaseException) -> bool:
    """A certificate or TLS protocol refusal. Judged by the exception types, not the
    text: pywbem's messages carry the host name, which may well contain "ssl". An EOF
    inside TLS is a cut connection, not a refusal."""
    return isinstance(exc, pywbem.ConnectionError) and any(
        isinstance(e, ssl.SSLError) and not isinstance(e, (ssl.SSLEOFError, ssl.SSLZeroReturnError))
        for e in causes(exc))


def never_sent(exc: BaseException) -> bool:
    """A failure before any byte of the request reached the agent (safe to repeat):
    no connection was made (refused, unreachable, unknown host, connect timeout)."""
    return isinstance(exc, pywbem.ConnectionError) and not is_tls_failure(exc) and any(
        isinstance(e, urllib3.exceptions.ConnectTimeoutError)     # NewConnectionError is one too
        for e in causes(exc))


def is_transient(exc: BaseException) -> bool:
    """Worth another try: the network, not the agent's answer (a bad certificate stays bad)."""
    return isinstance(exc, (pywbem.ConnectionError, pywbem.TimeoutError)) and not is_tls_failure(exc)


def translate(exc: BaseException, what: str, url: str) -> ArrayCallError:
    """Any failure of a request as a one-line ArrayCallError (never the credentials:
    pywbem's messages carry the URL, which holds none)."""
    if isinstance(exc, ArrayCallError):
        return exc
    if isinstance(exc, pywbem.AuthError):
        return ArrayCallError(BAD_CREDENTIALS, f"{url} refused the user name or password")
    if isinstance(exc, (pywbem.ConnectionError, pywbem.TimeoutError)):
        return ArrayCallError(CANNOT_CONNECT, f"{what}: cannot talk to {url}: {one_line(exc)}")
    if isinstance(exc, pywbem.CIMError):
        return ArrayCallError(AGENT_BROKEN, f"{what}: the CIM agent answered {exc.status_code_name}"
                                            f" {one_line(exc.status_description, 120)}")
    if isinstance(exc, pywbem.HTTPError):
        return ArrayCallError(AGENT_BROKEN, f"{what}: the CIM agent answered HTTP {exc.status}"
                                            f" {one_line(exc.reason, 80)}")
    if isinstance(exc, pywbem.Error):
        return ArrayCallError(AGENT_BROKEN, f"{what}: unreadable reply: {one_line(exc)}")
    return ArrayCallError(AGENT_BROKEN, f"{what}: {type(exc).__name__}: {one_line(exc)}")
