"""Bad input, generated: batch files and command lines never produce a traceback, always
one line and exit 2 (or run cleanly when they happen to be valid), and never change the
array (only reads reach it, and its objects are the same afterwards)."""
from __future__ import annotations

import re
import string
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from orchestrator.cli import inspurvcfg
from orchestrator.cli.listing import LISTS
from orchestrator.cli.main import main as vssorch
from tests.support.commands import GOOD
from tests.support.configfile import write_config
from tests.support.view import READS

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

words = st.text(string.ascii_letters + string.digits + "_-.:/ ", min_size=0, max_size=12)
scalars = st.one_of(words, st.integers(-5, 200), st.booleans(), st.none())
trees = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["jobs", "name", "create", "write", "restore", "delete", "volumes", "job", "text", "keep",
         "copy_rate", "verify", "transportable", "import_to", "expose_to", "verify_bytes", "x"]),
        inner, max_size=4)), max_leaves=20)


def _mutate(data) -> str:
    lines = GOOD.splitlines()
    kind, where, junk = data
    i = where % len(lines)
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines[i] = lines[i][: len(lines[i]) // 2] + junk
    else:
        lines.insert(i, junk)
    return "\n".join(lines) + "\n"


texts = st.one_of(
    st.text(max_size=200),
    trees.map(lambda t: yaml.safe_dump(t)),
    trees.map(lambda t: yaml.safe_dump({"jobs": [t]})),
    st.tuples(st.integers(0, 2), st.integers(0, 100), st.text(max_size=30)).map(_mutate),
)


def _check_one_line(code: int, err: str, prog: str) -> None:
    assert "Traceback" not in err
    if code != 0:
        assert code == 2 and err.count("\n") == 1 and re.match(rf"{prog}: error( \d+)?: ", err), (code, err)


def test_batch_files_offline(tmp_path: Path, capsys):
    """No array at all: whatever the file, one line and exit 2 (a valid file stops at
    the missing configuration)."""
    config = tmp_path / "missing.yaml"

    @FUZZ
    @given(texts)
    def check(text):
        path = tmp_path / "b.yaml"
        path.write_bytes(text.encode("utf-8", "replace"))
        code = vssorch(["batch", str(path), "--config", str(config)])
        out = capsys.readouterr()
        assert code == 2 and out.out == ""
        _check_one_line(code, out.err, "vssorch")
    check()


def test_batch_files_never_change_the_array(tmp_path: Path, capsys, array, view):
    config = write_config(tmp_path / "config.yaml", array)
    before = view.snapshot()

    @FUZZ
    @given(texts)
    def check(text):
        path = tmp_path / "b.yaml"
        path.write_bytes(text.encode("utf-8", "replace"))
        code = vssorch(["batch", str(path), "--config", str(config), "--check"])
        _check_one_line(code, capsys.readouterr().err, "vssorch")
    check()
    assert set(array.stats()) <= READS and view.snapshot() == before


def test_listvols_words_offline(tmp_path: Path, capsys):
    """Any word but the manual's six is 308 and exit 2, before the array is asked."""
    config = write_config(tmp_path / "config.yaml", None, cimomHost="127.0.0.1", cimomPort=1)

    @FUZZ
    @given(words.filter(lambda w: w.strip() and w.lower() not in LISTS and not w.startswith("-")))
    def check(word):
        code = inspurvcfg.main(["--config", str(config), "listvols", word])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("inspurvcfg: error 308:"), err
        _check_one_line(code, err, "inspurvcfg")
    check()


argvs = st.lists(st.one_of(st.sampled_from(["listvols", "add", "rem", "testsnapshot", "set", "--json",
                                            "--config", "-x", "--", *LISTS]), words), max_size=5)


def test_command_lines_never_change_the_array(tmp_path: Path, capsys, array, view):
    config = write_config(tmp_path / "config.yaml", array)
    before = view.snapshot()

    @FUZZ
    @given(argvs)
    def check(argv):
        if "set" in argv or "testsnapshot" in argv or argv[:1] in (["add"], ["rem"]):
            return      # these change things on purpose when their arguments are right
        code = inspurvcfg.main(["--config", str(config), *argv])
        _check_one_line(code, capsys.readouterr().err, "inspurvcfg")
    check()
    assert set(array.stats()) <= READS and view.snapshot() == before
