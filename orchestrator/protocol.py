"""Which path carries a target LUN to this machine: the manual's Table 3-1.

Table 3-1 (设置协议与使用协议优先级对照表, manual 3.2.3.6) crosses the configured
`storageProtocol` with the software iSCSI initiator of the guest OS and the initiators
of the host under it (an ESXi server or a Hyper-V parent). `TABLE_3_1` below copies it
row by row, with the manual's own words as keys and values, so that a reader can lay it
beside the printed table and check each of its 24 cells.

Three cells disagree with the prose around the table (3.2.3.6 and 3.2.3.7 say: FC first;
with storageProtocol auto or iSCSI and no FC, the guest's software iSCSI before the
host's). They are kept as printed, marked `# as printed`: the table is the rule the manual
gives, and changing a cell needs evidence of what the original provider does:
  - iSCSI / guest None / host iSCSI -> guest iSCSI, though the guest has no initiator;
  - iSCSI / guest iSCSI / host FC -> error, though the guest's iSCSI is there;
  - iSCSI / guest iSCSI / host None -> error, likewise.
"""

from __future__ import annotations

from enum import Enum

from core.errors import VssError


class StorageProtocol(str, Enum):
    """The `storageProtocol` parameter (manual 3.2.3.6)."""

    AUTO = "auto"
    FC = "fc"
    ISCSI = "iscsi"


class Path(Enum):
    """Where the LUN is mapped; the values are the manual's words for it."""

    HOST_FC = "主机上的 FC"
    HOST_ISCSI = "主机上的 iSCSI"
    GUEST_ISCSI = "客户机上的 iSCSI"


class ProtocolError(VssError):
    """Table 3-1 says 错误 (error) for this combination: nothing may carry the LUN."""

    def __init__(self, detail: str) -> None:
        super().__init__(205, detail)


# The table's column values, spelled as printed.
AUTO, FC, ISCSI = "Auto", "FC", "iSCSI"                      # 设置的协议
NO_INITIATOR, SOFTWARE_INITIATOR = "None", "iSCSI(software initiator)"   # 客户机 OS
BOTH, FC_ONLY, ISCSI_ONLY, NEITHER = "FC, iSCSI", "FC", "iSCSI", "None"  # 主机
ERROR = None                                                 # 错误

TABLE_3_1: dict[tuple[str, str, str], Path | None] = {
    # 设置的协议, 客户机 OS, 主机                  选择使用的协议
    (AUTO, NO_INITIATOR, BOTH):                 Path.HOST_FC,
    (AUTO, NO_INITIATOR, FC_ONLY):              Path.HOST_FC,
    (AUTO, NO_INITIATOR, ISCSI_ONLY):           Path.HOST_ISCSI,
    (AUTO, NO_INITIATOR, NEITHER):              ERROR,
    (AUTO, SOFTWARE_INITIATOR, BOTH):           Path.HOST_FC,
    (AUTO, SOFTWARE_INITIATOR, FC_ONLY):        Path.HOST_FC,
    (AUTO, SOFTWARE_INITIATOR, ISCSI_ONLY):     Path.GUEST_ISCSI,
    (AUTO, SOFTWARE_INITIATOR, NEITHER):        Path.GUEST_ISCSI,
    (FC, NO_INITIATOR, BOTH):                   Path.HOST_FC,
    (FC, NO_INITIATOR, FC_ONLY):                Path.HOST_FC,
    (FC, NO_INITIATOR, ISCSI_ONLY):             ERROR,
    (FC, NO_INITIATOR, NEITHER):                ERROR,
    (FC, SOFTWARE_INITIATOR, BOTH):             Path.HOST_FC,
    (FC, SOFTWARE_INITIATOR, FC_ONLY):          Path.HOST_FC,
    (FC, SOFTWARE_INITIATOR, ISCSI_ONLY):       ERROR,
    (FC, SOFTWARE_INITIATOR, NEITHER):          ERROR,
    (ISCSI, NO_INITIATOR, BOTH):                Path.HOST_ISCSI,
    (ISCSI, NO_INITIATOR, FC_ONLY):             ERROR,
    (ISCSI, NO_INITIATOR, ISCSI_ONLY):          Path.GUEST_ISCSI,  # as printed
    (ISCSI, NO_INITIATOR, NEITHER):             ERROR,
    (ISCSI, SOFTWARE_INITIATOR, BOTH):          Path.GUEST_ISCSI,
    (ISCSI, SOFTWARE_INITIATOR, FC_ONLY):       ERROR,             # as printed
    (ISCSI, SOFTWARE_INITIATOR, ISCSI_ONLY):    Path.GUEST_ISCSI,
    (ISCSI, SOFTWARE_INITIATOR, NEITHER):       ERROR,             # as printed
}

_SETTING = {StorageProtocol.AUTO: AUTO, StorageProtocol.FC: FC, StorageProtocol.ISCSI: ISCSI}
_HOST = {(True, True): BOTH, (True, False): FC_ONLY, (False, True): ISCSI_ONLY,
         (False, False): NEITHER}


def choose_path(configured: StorageProtocol | str, guest_iscsi: bool, host_fc: bool,
                host_iscsi: bool) -> Path:
    """The path Table 3-1 picks, or ProtocolError (code 205) where it says 错误.

    `guest_iscsi`: the guest OS has a software iSCSI initiator; `host_fc`/`host_iscsi`:
    the host under the guest has FC HBAs / iSCSI initiators.
    """
    setting = StorageProtocol(configured.lower())  # a member is a str too; "FC" from a config file
    key = (_SETTING[setting], SOFTWARE_INITIATOR if guest_iscsi else NO_INITIATOR,
           _HOST[(host_fc, host_iscsi)])
    path = TABLE_3_1[key]
    if path is ERROR:
        raise ProtocolError(
            f"storageProtocol {setting.value}, guest software iSCSI "
            f"{'present' if guest_iscsi else 'absent'}, host initiators {key[2]}: "
            "manual Table 3-1 allows no path (check the protocol setting against the "
            "initiators, manual 5.1)")
    return path
