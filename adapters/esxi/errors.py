"""What can go wrong talking to ESXi / vCenter, as exceptions the orchestrator can tell apart.

Each carries `.code`, a number from the manual's table (5.3) that the orchestrator may
report as is. The table has no vSphere-specific codes, so only three are used: 3008
(assign failed) when a target LUN cannot be made visible to the VM, 3009 (withdraw
failed) when it cannot be taken away again, and 3000 (an exception occurred, see the
log) for everything else. Messages name the object and the operation, never a password.
"""

from __future__ import annotations

from core.errors import CodedError


class EsxiError(CodedError):
    """vSphere refused or failed an operation; the message says which and why."""

    code = 3000


class ConnectFailed(EsxiError):
    """The web service could not be reached (address, port, network, TLS handshake)."""


class CertificateRejected(ConnectFailed):
    """The server's certificate is not trusted by the configured CA file (vmcredential)."""


class LoginFailed(EsxiError):
    """vSphere refused the user name or password (vim.fault.InvalidLogin)."""


class EsxiTimeout(EsxiError):
    """No answer, or a task still running, when the configured timeout ran out."""


class VmNotFound(EsxiError):
    """vSphere knows no VM with any of this machine's IPs, DNS names or BIOS uuids."""


class LunNotVisible(EsxiError):
    """The ESXi host does not see the LUN (not mapped to its initiators, or no rescan)."""

    code = 3008


class UnsupportedDisk(EsxiError):
    """The disk reaches the VM as a virtual-mode RDM or a VMFS virtual disk (manual 5.1).

    Only physical-mode RDMs pass the array's identity and SCSI commands through, so the
    provider cannot copy or replace anything else.
    """


class AttachFailed(EsxiError):
    """Attaching a visible LUN as an RDM failed (no free SCSI slot, vSphere refused)."""

    code = 3008


class DetachFailed(EsxiError):
    """Removing an RDM from the VM failed."""

    code = 3009
