from __future__ import annotations

import pytest

from core.ids import array_volume_uid, initiator, iqn, volume_uid, wwpn

UID = "60050760008D89C0D000000000000001"


@pytest.mark.parametrize("text", [
    UID, UID.lower(), "naa." + UID.lower(), " NAA." + UID + " \n", "0x" + UID.lower(),
])
def test_volume_uid_spellings(text):
    assert volume_uid(text) == UID


@pytest.mark.parametrize("text, expected", [
    ("naa." + UID.lower(), UID), (UID[:-1], None), (UID + "0", None), ("60050760", None), ("xyz", None),
])
def test_array_volume_uid_is_32_hex_digits(text, expected):
    assert array_volume_uid(text) == expected


@pytest.mark.parametrize("text", [
    "t10.ATA     QEMU HARDDISK", "eui.0025385b71b0d2a1", "", "0x", "naa.", "6005-0760", "xyz",
])
def test_volume_uid_refuses_what_is_not_one(text):
    assert volume_uid(text) is None


@pytest.mark.parametrize("text,expected", [
    ("0x10000090fa1b2c3d\n", "10000090FA1B2C3D"),
    ("10:00:00:90:fa:1b:2c:3d", "10000090FA1B2C3D"),
    ("5000000000000001", "5000000000000001"),
    ("0x1b2c3d", "00000000001B2C3D"),
])
def test_wwpn_spellings(text, expected):
    assert wwpn(text) == expected


@pytest.mark.parametrize("text", ["50000000000000001", "iqn.1994-05.com.redhat:x", "", "0x"])
def test_wwpn_refuses_what_is_not_one(text):
    assert wwpn(text) is None


def test_iqn_case_does_not_count():
    assert iqn(" IQN.1994-05.com.RedHat:Host1\n") == "iqn.1994-05.com.redhat:host1"


@pytest.mark.parametrize("text,expected", [
    ("10:00:00:90:fa:1b:2c:3d", "10000090FA1B2C3D"),
    ("iqn.1994-05.com.RedHat:x", "iqn.1994-05.com.redhat:x"),
    ("EUI.0025385B71B0D2A1", "eui.0025385b71b0d2a1"),
])
def test_initiator_is_either_kind(text, expected):
    assert initiator(text) == expected
