"""Table 3-1 of the manual, transcribed here a second time from the printed page."""

import pytest

from core.errors import VssError
from orchestrator.protocol import TABLE_3_1, Path, ProtocolError, StorageProtocol, choose_path

# 设置的协议 | 客户机 OS | 主机 | 选择使用的协议 — one line per printed row.
PRINTED = """
Auto  | None  | FC, iSCSI | 主机上的 FC
Auto  | None  | FC        | 主机上的 FC
Auto  | None  | iSCSI     | 主机上的 iSCSI
Auto  | None  | None      | 错误
Auto  | iSCSI | FC, iSCSI | 主机上的 FC
Auto  | iSCSI | FC        | 主机上的 FC
Auto  | iSCSI | iSCSI     | 客户机上的 iSCSI
Auto  | iSCSI | None      | 客户机上的 iSCSI
FC    | None  | FC, iSCSI | 主机上的 FC
FC    | None  | FC        | 主机上的 FC
FC    | None  | iSCSI     | 错误
FC    | None  | None      | 错误
FC    | iSCSI | FC, iSCSI | 主机上的 FC
FC    | iSCSI | FC        | 主机上的 FC
FC    | iSCSI | iSCSI     | 错误
FC    | iSCSI | None      | 错误
iSCSI | None  | FC, iSCSI | 主机上的 iSCSI
iSCSI | None  | FC        | 错误
iSCSI | None  | iSCSI     | 客户机上的 iSCSI
iSCSI | None  | None      | 错误
iSCSI | iSCSI | FC, iSCSI | 客户机上的 iSCSI
iSCSI | iSCSI | FC        | 错误
iSCSI | iSCSI | iSCSI     | 客户机上的 iSCSI
iSCSI | iSCSI | None      | 错误
"""

ROWS = [tuple(cell.strip() for cell in line.split("|")) for line in PRINTED.strip().splitlines()]


def test_the_table_has_every_combination_once():
    combos = {(s, g, h) for s, g, h, _ in ROWS}
    assert len(ROWS) == len(combos) == 3 * 2 * 4 == len(TABLE_3_1)


@pytest.mark.parametrize("setting,guest,host,chosen", ROWS, ids=["/".join(r[:3]) for r in ROWS])
def test_cell(setting, guest, host, chosen):
    args = (setting.lower(), guest == "iSCSI", "FC" in host, "iSCSI" in host)
    if chosen == "错误":
        with pytest.raises(ProtocolError) as caught:
            choose_path(*args)
        assert caught.value.code == 205
        assert isinstance(caught.value, VssError)
        assert setting.lower() in str(caught.value)
    else:
        assert choose_path(*args).value == chosen


def test_setting_spellings():
    assert choose_path(StorageProtocol.FC, False, True, False) is Path.HOST_FC
    assert choose_path("iSCSI", True, False, True) is Path.GUEST_ISCSI
    assert choose_path("AUTO", False, False, True) is Path.HOST_ISCSI
    with pytest.raises(ValueError):
        choose_path("sas", False, True, True)
