"""The manual's error codes (user manual 5.3) and the one error hierarchy that carries them.

People who run the original provider know these numbers, so every failure the product
reports carries one of them. The English wording translates the manual's Chinese table;
function names in it (FindTarget, AssignVol, ...) are the original provider's and are
kept because they are what the manual shows. The manual has no 717 and no 1005, so
neither has this table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

# Not a failure: a restore in a cascade that also deleted the newer shadow copies (manual 5.1).
CASCADE_RESTORED = 300

MESSAGES: Mapping[int, str] = MappingProxyType({
    -1: "other restore error",
    5: "wrong CIMOM user name or password",
    100: "VerifyMTFC: a localcopy mapping in the target volume's dependency list has copy rate 0",
    102: "FindTarget: an exception occurred while getting the volumes of VSS_FREE",
    103: "FindTarget: the numbers of source and target volumes differ",
    200: "AssignVol: invalid controller WWPN",
    201: "AssignVol: invalid volume serial or internal error; the target storage cannot be determined",
    202: "AssignVol: invalid assignment/unassignment operation (must be 1 or 2), or internal error: "
         "the storage configuration service cannot be obtained",
    205: "the configured host WWPN/IQN is not supported",
    300: "the operation completed successfully; the newer and the current cascaded localcopies were deleted",
    308: "specify one of: all free reserved assigned unassigned inlc",
    400: "executeLocalcopy: the input vector is empty",
    401: "executeLocalcopy: AttachReplicas returned nothing",
    402: "AttachReplicas returned an error",
    500: "withdrawLocalcopy: the input volume is empty",
    501: "withdrawLocalcopy: no such volume in the storage synchronizations, or invalid parameter",
    502: "withdrawLocalcopy: ModifySynchronization returned nothing",
    503: "withdrawLocalcopy: invalid input volume",
    504: "withdrawLocalcopy: the storage configuration service is missing",
    512: "the volume is offline",
    600: "Cleanup: the source volume is empty",
    700: "a WWPN, boolean or targetMCS value is empty",
    701: "the WWPN length does not match the boolean variable",
    702: "the targetMCS id does not match",
    711: "no matching synchronization found",
    712: "internal error: the storage configuration service cannot be obtained",
    713: "the MCS does not support restoring a localcopy",
    714: "the MCS does not support restoring a space-efficient (SEV) localcopy",
    715: "the localcopy cannot be restored because the target volume is already a localcopy mapping's target",
    716: "restoring by reusing the existing localcopy mapping failed",
    718: "the MCS does not support restoring a localcopy",
    719: "the MCS does not support restoring a cascaded localcopy",
    720: "preparing the localcopy restore failed",
    730: "running the localcopy restore failed",
    740: "waiting for the related localcopy mappings to finish failed",
    800: "a localcopy mapping with copy rate 0 coexists with dependent targets whose copy rate is above 0",
    911: "internal error: the CIMOM may not be working properly",
    1000: "creating the JVM failed",
    1001: "class not found",
    1002: "some required parameters are missing",
    1003: "method not found",
    1004: "a required parameter is missing; set it with the configuration tool",
    1006: "a method failed",
    1007: "provider initialisation failed; see the log file for details",
    1600: "the recovery file cannot be created",
    1700: "AreLunsSupported: inspurGetLunInfo failed",
    1800: "FillLunInfo: inspurGetLunInfo failed",
    1900: "deleting a temporary file failed",
    2500: "initialising the log failed",
    2501: "the incomplete shadow copies cannot be found",
    2502: "the incomplete shadow copy information cannot be read from the file",
    2503: "the localcopy information in the file cannot be cleared",
    2504: "calling Cleanup failed",
    2505: "the file cannot be opened",
    2506: "the file cannot be created",
    2507: "HBA: loading the HBA library failed",
    3000: "an exception occurred; see the ESSService log",
    3001: "the log cannot be initialised",
    3002: "the CIM client cannot connect; check the configuration",
    3003: "the storage configuration service cannot be obtained; check the configuration",
    3004: "an internal error occurred",
    3005: "no controller found for VSS_FREE",
    3006: "no controller found for VSS_RESERVED",
    3007: "no suitable target volume found",
    3008: "the assign operation failed; check the CIM client log",
    3009: "the withdraw localcopy operation failed; check the CIM client log",
    4000: "initialisation failed",
    4001: "internal error",
    4002: "general information",
    4096: "ExecuteLocalcopy(): job started",
    32816: "the volume is already in a localcopy relationship",
    37883: "the volume is already assigned",
    38163: "the volume is already unassigned",
})


INTERNAL = 4001


class CodedError(Exception):
    """The base of every failure the product raises: `code` is the manual's, `detail` says
    what, where, with which names. An adapter's family sets its default `code` as a class
    attribute and raises `Family(detail)`; a caller that knows better passes `code=`."""

    code: int = INTERNAL

    def __init__(self, detail: str = "", *, code: int | None = None) -> None:
        code = type(self).code if code is None else code
        if code not in MESSAGES:
            # A code outside the manual would mean nothing to the people reading it.
            raise ValueError(f"{code} is not an error code of the manual")
        super().__init__(detail)
        self.code, self.detail = code, detail


class VssError(CodedError):
    """A failure reported as the manual's error: `error <code>: <message> (<detail>)`."""

    def __init__(self, code: int, detail: str = "") -> None:
        # Errors are printed as one line (CLI stderr, log records), whatever the cause said.
        super().__init__(" ".join(detail.splitlines()).strip(), code=code)
        self.message = MESSAGES[code]
        self.args = (code, self.detail)

    def __str__(self) -> str:
        text = f"error {self.code}: {self.message}"
        return f"{text} ({self.detail})" if self.detail else text


class ConfigError(VssError):
    """The configuration (a file, an environment variable or a `set` argument) is unusable.

    Callers catch it apart from other failures: it is the user's input to correct, not an
    operation that failed. The detail names the file line and the parameter.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(1004, detail)


class BadInput(VssError):
    """The user named something that does not exist or cannot be meant: exit 2, like a
    usage error, although the array had to be asked to know it."""


class ArrayCallError(CodedError):
    """An array operation failed; `.code` is the manual's code, `.rc` the CIM return code
    (5 bad credentials, 911 CIM agent not working, 3002 cannot connect, 3003 no
    configuration service, 402 AttachReplicas refused, 512 volume offline, ...)."""

    def __init__(self, code: int, detail: str, rc: int | None = None) -> None:
        super().__init__(detail, code=code)
        self.rc = rc

    def __str__(self) -> str:
        return f"{self.detail} (code {self.code})"


class OutcomeUnknown(ArrayCallError):
    """Sent, but no answer (connection dropped after sending): the request may or may not
    have taken effect, so the caller reads the array instead of repeating the call."""


class AttachRefused(ArrayCallError):
    """AttachReplicas refused some pairs; nothing was created (all or nothing).

    `refused` maps the index of each refused pair to its return code; 32816 means that
    pair's target is already in a localcopy relationship (another host took it)."""

    def __init__(self, refused: dict[int, int], detail: str) -> None:
        first = next(iter(refused.values()))
        super().__init__(32816 if 32816 in refused.values() else 402, detail, first)
        self.refused = refused


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what it was raised from or during, to the innermost (client
    libraries such as pywbem and requests keep the socket's own error there)."""
    seen = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def as_vss_error(exc: BaseException, default: int = INTERNAL) -> VssError:
    """Any failure as the manual's error: a coded one keeps its code (5 wrong password,
    3002 cannot connect, an adapter family's default, ...); anything else is `default`
    (4001, internal error, unless the caller knows better)."""
    if isinstance(exc, VssError):
        return exc
    if isinstance(exc, CodedError):
        return VssError(exc.code, exc.detail or str(exc))
    return VssError(default, f"{type(exc).__name__}: {exc}")
