"""One error hierarchy: every adapter family derives from core's coded base and
as_vss_error turns any failure into the manual's code, the family's own when it has one,
the caller's default otherwise."""
from __future__ import annotations

import urllib.error

import pytest
import pywbem

from adapters.cim.errors import translate
from adapters.esxi import errors as esxi
from adapters.host.base import DiskTimeout, HostError, UnsupportedVolume, VolumeNotFound, normalize_wwpn
from adapters.host.linux import CommandFailed, run_command
from adapters.host.powershell import PowerShellError
from core.errors import (MESSAGES, ArrayCallError, AttachRefused, BadInput, CodedError, ConfigError,
                         OutcomeUnknown, VssError, as_vss_error)

FAMILIES = [
    (esxi.EsxiError("vSphere said no"), 3000),
    (esxi.ConnectFailed("vc.example:443 refused"), 3000),
    (esxi.CertificateRejected("not trusted"), 3000),
    (esxi.LoginFailed("refused the user name"), 3000),
    (esxi.EsxiTimeout("task-7 still running"), 3000),
    (esxi.VmNotFound("no VM with uuid 42"), 3000),
    (esxi.UnsupportedDisk("a virtual-mode RDM"), 3000),
    (esxi.LunNotVisible("LUN 6005 not visible"), 3008),
    (esxi.AttachFailed("no free SCSI unit"), 3008),
    (esxi.DetachFailed("RDM stays"), 3009),
    (HostError("disk gone"), 4001),
    (VolumeNotFound("no volume at E:"), 4001),
    (DiskTimeout("disk 6005 did not arrive"), 4001),
    (UnsupportedVolume("a VHDX"), 4001),
    (PowerShellError("Get-Disk failed"), 4001),
    (ArrayCallError(911, "the agent answered CIM_ERR_FAILED", 1), 911),
    (OutcomeUnknown(911, "no answer after sending"), 911),
    (AttachRefused({0: 38869, 1: 0}, "pair 0 refused"), 402),
    (AttachRefused({1: 32816}, "pair 1 taken"), 32816),
]


@pytest.mark.parametrize("exc,code", FAMILIES, ids=[type(e).__name__ + str(c) for e, c in FAMILIES])
def test_every_adapter_family_converts_to_its_manual_code(exc, code):
    assert isinstance(exc, CodedError) and not isinstance(exc, VssError)
    error = as_vss_error(exc)
    assert type(error) is VssError
    assert (error.code, error.message) == (code, MESSAGES[code])
    assert error.detail == exc.detail != ""
    assert str(error) == f"error {code}: {MESSAGES[code]} ({exc.detail})"
    # The family's own code wins over a caller's default.
    assert as_vss_error(exc, default=3002).code == code


def test_real_adapter_failures_keep_their_codes():
    with pytest.raises(CommandFailed) as failed:
        run_command(["false"])
    error = as_vss_error(failed.value)
    assert (error.code, error.detail) == (4001, "false: exit 1:")
    with pytest.raises(HostError) as bad:
        normalize_wwpn("not-a-wwpn")
    assert as_vss_error(bad.value).code == 4001
    refused = translate(pywbem.AuthError("401"), "Open", "https://array:5989")
    assert as_vss_error(refused).code == 5 and "array:5989" in as_vss_error(refused).detail
    unreachable = translate(pywbem.ConnectionError("refused"), "EnumerateInstances", "https://array:5989")
    assert as_vss_error(unreachable).code == 3002


def test_manual_errors_pass_through_and_the_rest_take_the_default():
    for error in (VssError(711, "no group"), ConfigError("line 3: cimomPort"), BadInput(201, "no volume x")):
        assert as_vss_error(error) is error
    assert (as_vss_error(KeyError("x")).code, as_vss_error(KeyError("x")).detail) == (4001, "KeyError: 'x'")
    assert as_vss_error(OSError("disk full"), default=3002).code == 3002
    # A foreign `.code` (an HTTP status here) is not one of the manual's codes.
    http = urllib.error.HTTPError("http://x", 500, "Server Error", None, None)
    assert as_vss_error(http).code == 4001


def test_codes_outside_the_manual_are_refused():
    for make in (lambda: VssError(717), lambda: ArrayCallError(1005, "x"), lambda: HostError("x", code=99)):
        with pytest.raises(ValueError, match="is not an error code of the manual"):
            make()
    assert VssError(5, "line one\nline two\n").detail == "line one line two"
    assert VssError(5, "x").args == (5, "x")
