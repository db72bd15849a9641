from __future__ import annotations

import os
import stat

import pytest

from core.files import atomic_write


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_text_and_bytes_and_replaces_the_old_content(tmp_path):
    target = tmp_path / "a.json"
    atomic_write(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    atomic_write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert os.listdir(tmp_path) == ["a.json"]


@pytest.mark.skipif(os.name == "nt", reason="no mode bits")
def test_private_unless_told_otherwise(tmp_path):
    atomic_write(tmp_path / "token", "secret")
    assert mode(tmp_path / "token") == 0o600
    atomic_write(tmp_path / "config.yaml", "a: 1", mode=0o644)
    assert mode(tmp_path / "config.yaml") == 0o644


def test_fsyncs_the_file_and_the_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.fstat(fd).st_mode), real(fd))[1])
    atomic_write(tmp_path / "a", "x")
    assert [stat.S_ISDIR(m) for m in synced] == [False] + ([True] if os.name != "nt" else [])


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch, failing):
    target = tmp_path / "record.json"
    target.write_text("old")

    def fail(*_args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["record.json"]


def test_a_missing_folder_is_the_callers_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "no" / "such", "x")
