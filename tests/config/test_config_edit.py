from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from orchestrator import configedit
from orchestrator.config import load_config
from orchestrator.configedit import set_value
from core.errors import ConfigError, VssError

posix_modes = pytest.mark.skipif(os.name == "nt", reason="no file modes on Windows")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_changing_a_value_keeps_every_other_byte(config_file: Path):
    before = config_file.read_text(encoding="utf-8").splitlines()
    config = set_value(config_file, "backgroundCopy", 0, env={})
    after = config_file.read_text(encoding="utf-8").splitlines()
    assert config.background_copy == 0
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after)
    # The example's plain-text password is sealed on the way (its comment stays).
    (plain, sealed), *changed = changed
    assert plain.startswith("password: passw0rd ") and sealed.startswith("password: fernet:")
    assert sealed.endswith(" # that user's password (the embedded array's default)")
    assert changed == [(
        "backgroundCopy: 50                # copy rate 0..100; 0 = snapshot without background "
        "copy (needed for thin targets)",
        "backgroundCopy: 0                 # copy rate 0..100; 0 = snapshot without background "
        "copy (needed for thin targets)")]


def test_a_new_key_is_added_and_comments_stay(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("# our array\ncimomHost: a1   # primary\n\n# end of file\n", encoding="utf-8")
    set_value(path, "storagePool", "pool_name_1", env={})
    text = path.read_text(encoding="utf-8")
    for kept in ("# our array\n", "cimomHost: a1   # primary\n", "# end of file\n"):
        assert kept in text
    assert load_config(path, env={}).storage_pool == "pool_name_1"


def test_a_file_of_only_comments_keeps_them(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("# written by hand\n# more", encoding="utf-8")
    set_value(path, "cimomHost", "10.1.1.1", env={})
    assert path.read_text(encoding="utf-8") == "# written by hand\n# more\ncimomHost: 10.1.1.1\n"


def test_windows_line_endings_stay(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"# hosts\r\ncimomHost: a1 # here\r\ncimomPort: 5989\r\n")
    set_value(path, "cimomPort", 5988, env={})
    assert path.read_bytes() == b"# hosts\r\ncimomHost: a1 # here\r\ncimomPort: 5988\r\n"


def test_the_whole_result_is_checked_and_a_refused_edit_changes_nothing(config_file: Path):
    original = config_file.read_bytes()
    with pytest.raises(ConfigError, match="vssFreeInitiator and vssReservedInitiator must differ"):
        set_value(config_file, "vssReservedInitiator", "5000000000000000", env={})
    with pytest.raises(ConfigError, match="backgroundCopy: must be an integer 0..100"):
        set_value(config_file, "backgroundCopy", 500, env={})
    assert config_file.read_bytes() == original
    assert leftovers(config_file.parent) == []


def test_a_broken_file_is_refused_not_overwritten(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("cimomHost: [a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.yaml:\d+: "):
        set_value(path, "cimomHost", "a", env={})
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must be a mapping"):
        set_value(path, "cimomHost", "a", env={})
    assert path.read_text(encoding="utf-8") == "- a\n- b\n"


def test_a_bad_value_elsewhere_can_be_fixed_with_set(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("backgroundCopy: 500 # oops\n", encoding="utf-8")
    assert set_value(path, "backgroundCopy", 40, env={}).background_copy == 40
    # the comment stays in its column
    assert path.read_text(encoding="utf-8") == "backgroundCopy: 40  # oops\n"


def test_a_missing_file_and_folder_are_created(tmp_path: Path):
    path = tmp_path / "new" / "config.yaml"
    set_value(path, "cimomHost", "array1", env={})
    assert path.read_text(encoding="utf-8") == "cimomHost: array1\n"


def test_a_symlinked_file_is_edited_through_the_link(tmp_path: Path):
    real = tmp_path / "real.yaml"
    real.write_text("cimomHost: a1\n", encoding="utf-8")
    link = tmp_path / "link.yaml"
    try:
        link.symlink_to(real)
    except OSError:
        pytest.skip("no symlinks here")
    set_value(link, "cimomHost", "a2", env={})
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "cimomHost: a2\n"


def test_a_failed_write_is_error_2506_and_leaves_the_old_file(config_file: Path, monkeypatch):
    original = config_file.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(configedit.os, "replace", broken_replace)
    with pytest.raises(VssError) as caught:
        set_value(config_file, "cimomHost", "a2", env={})
    assert caught.value.code == 2506
    assert "No space left on device" in str(caught.value)
    assert config_file.read_bytes() == original
    assert leftovers(config_file.parent) == []


@posix_modes
def test_a_new_file_holding_a_password_is_0600(tmp_path: Path):
    secret = tmp_path / "secret.yaml"
    set_value(secret, "password", "pw", env={})
    assert mode(secret) == 0o600
    plain = tmp_path / "plain.yaml"
    set_value(plain, "cimomHost", "a1", env={})
    assert mode(plain) == 0o644


@posix_modes
def test_adding_a_password_takes_group_and_other_access_away(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("cimomHost: a1\n", encoding="utf-8")
    path.chmod(0o664)
    set_value(path, "cimomPort", 5988, env={})
    assert mode(path) == 0o664            # no secret: the user's choice stays
    set_value(path, "vmpassword", "pw", env={})
    assert mode(path) == 0o600


@posix_modes
def test_a_password_that_looks_like_a_number_still_counts(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("password: 0\n", encoding="utf-8")
    path.chmod(0o644)
    set_value(path, "cimomHost", "a1", env={})
    assert mode(path) == 0o600
