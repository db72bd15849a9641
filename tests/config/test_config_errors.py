from __future__ import annotations

import pytest

from core.errors import MESSAGES, ConfigError, VssError

# Every code of the manual's table 5.3 (it has no 717 and no 1005).
MANUAL_CODES = {
    -1, 5, 100, 102, 103, 200, 201, 202, 205, 300, 308, 400, 401, 402,
    500, 501, 502, 503, 504, 512, 600, 700, 701, 702,
    711, 712, 713, 714, 715, 716, 718, 719, 720, 730, 740, 800, 911,
    1000, 1001, 1002, 1003, 1004, 1006, 1007, 1600, 1700, 1800, 1900,
    2500, 2501, 2502, 2503, 2504, 2505, 2506, 2507,
    3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3009,
    4000, 4001, 4002, 4096, 32816, 37883, 38163,
}


def test_table_holds_exactly_the_manuals_codes():
    assert set(MESSAGES) == MANUAL_CODES
    assert all(m and "\n" not in m and m == m.strip() for m in MESSAGES.values())


def test_str_is_one_line_with_code_message_and_detail():
    err = VssError(3007, "source vol1 (10 GiB):\nno free target\nof that size")
    assert str(err) == ("error 3007: no suitable target volume found "
                        "(source vol1 (10 GiB): no free target of that size)")
    assert (err.code, err.message) == (3007, MESSAGES[3007])


def test_without_detail_only_the_manuals_meaning():
    assert str(VssError(32816)) == "error 32816: the volume is already in a localcopy relationship"


def test_a_code_outside_the_manual_is_a_programming_error():
    with pytest.raises(ValueError):
        VssError(717)


def test_config_error_is_a_vss_error_with_the_required_parameter_code():
    err = ConfigError("config.yaml:3: backgroundCopy: must be an integer 0..100")
    assert isinstance(err, VssError)
    assert err.code == 1004
    assert err.detail == "config.yaml:3: backgroundCopy: must be an integer 0..100"
