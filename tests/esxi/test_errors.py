"""How pyVmomi, ssl and socket failures become the adapter's typed errors, offline."""

from __future__ import annotations

import ssl

import pytest
from pyVmomi import vim

from adapters.esxi import errors
from adapters.esxi.session import VSphereSession, _translate


def raised_inside(exc: BaseException) -> errors.EsxiError:
    with pytest.raises(errors.EsxiError) as caught, _translate("doing it", 2.5, errors.DetachFailed):
        raise exc
    return caught.value


def test_vsphere_fault_takes_the_operations_error_and_code():
    error = raised_inside(vim.fault.InvalidDeviceSpec(msg="unit taken"))
    assert type(error) is errors.DetachFailed and error.code == 3009
    assert str(error) == "doing it: InvalidDeviceSpec: unit taken"


def test_connect_faults_are_unwrapped_to_their_cause():
    # pyVmomi's Connect raises HostConnectFault while handling the first request's error.
    def connect():
        error = ssl.SSLCertVerificationError("certificate verify failed")
        error.verify_message = "unable to get local issuer certificate"  # set by the ssl module
        try:
            raise error
        except ssl.SSLError as exc:
            raise vim.fault.HostConnectFault(msg=str(exc))  # noqa: B904 - as pyVmomi: implicit chain

    with pytest.raises(errors.CertificateRejected, match="local issuer"), _translate("connecting", 1, errors.ConnectFailed):
        connect()


@pytest.mark.parametrize("exc, kind", [
    (vim.fault.InvalidLogin(), errors.LoginFailed),
    (vim.fault.NotAuthenticated(), errors.LoginFailed),
    (TimeoutError("timed out"), errors.EsxiTimeout),
    (ConnectionResetError(104, "reset"), errors.ConnectFailed),
])
def test_kinds(exc, kind):
    assert type(raised_inside(exc)) is kind


def test_timeout_message_names_the_limit():
    assert "2.5 s" in str(raised_inside(TimeoutError()))


def test_other_exceptions_pass_through():
    with pytest.raises(KeyError), _translate("doing it", 1):
        raise KeyError("bug")


def test_codes():
    assert errors.EsxiError.code == errors.LoginFailed.code == errors.UnsupportedDisk.code == 3000
    assert errors.LunNotVisible.code == errors.AttachFailed.code == 3008
    assert errors.DetachFailed.code == 3009


def test_missing_ca_file(tmp_path):
    with pytest.raises(errors.ConnectFailed, match="CA file"):
        VSphereSession.connect("https://127.0.0.1:9/sdk", "u", "p", 1000, cafile=str(tmp_path / "none.pem"))


def test_timeout_must_be_positive():
    with pytest.raises(ValueError):
        VSphereSession.connect("https://127.0.0.1:9/sdk", "u", "p", 0)
