"""Random and malformed input never makes inspurvcfg crash: a clean result (exit 0) or
one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from unittest import mock

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orchestrator.cli.inspurvcfg import main
from orchestrator.config import PARAMS
from tests.support.commands import clean_env

EXAMPLE = (Path(__file__).resolve().parents[2] / "config.example.yaml").read_text(encoding="utf-8")
NAMES = [name for p in PARAMS for name in (p.key, *p.aliases)]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextlib.contextmanager
def isolated(config_bytes: bytes):
    """A config file in a fresh folder that is also the working folder, and no VSSORCH_*
    variables, so nothing the CLI does can touch the caller's files."""
    old_cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(config_bytes)
        env = clean_env()
        env["VSSORCH_CONFIG"] = str(path)
        env["VSSORCH_SET_CHECK"] = "0"    # no array here: skip the connection test after `set`
        os.chdir(folder)
        try:
            with mock.patch.dict(os.environ, env, clear=True):
                yield path
        finally:
            os.chdir(old_cwd)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    # `set password` without a value reads a line of standard input: here an empty one.
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            mock.patch("sys.stdin", io.StringIO("")):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check(code: int, out: str, err: str) -> None:
    event(f"exit {code}")       # --hypothesis-show-statistics shows both outcomes occur
    assert "Traceback" not in out + err
    assert err == "" or err.endswith("\n")
    # Warnings (a password on the command line, a file others can read) come first.
    lines = [line for line in err.splitlines() if not line.startswith("inspurvcfg: warning: ")]
    if code == 0:
        assert lines == []
    else:
        assert code == 2, err
        assert len(lines) == 1 and err.endswith(lines[0] + "\n") and lines[0].startswith("inspurvcfg: ")


scalars = st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=False), st.lists(st.integers(), max_size=2))
mappings = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=12)), scalars,
                           max_size=8).map(lambda d: yaml.safe_dump(d).encode())


@st.composite
def mutated_example(draw) -> bytes:
    text = EXAMPLE
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 8))
        text = text[:at] + draw(st.text(max_size=6)) + text[at + cut:]
    return text.encode("utf-8", "surrogatepass")


configs = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                    mappings, mutated_example())


@FUZZ
@given(configs)
def test_any_config_file(config: bytes):
    with isolated(config) as path:
        check(*run(["showcfg"]))
        code, out, err = run(["set", "cimomHost", "array1"])
        check(code, out, err)
        if code:                # refused: the file is as it was
            assert path.read_bytes() == config


names = st.sampled_from(NAMES + ["vssFreelInitiator", "vmUser"])
values = st.one_of(
    st.sampled_from(["5000000000000000", "50000000000000001", "Yes", "0", "101",
                     "https://h/sdk", "iqn.1991-05.com.microsoft:h", "", "a/b.pem"]),
    # --config would point the CLI away from the isolated file
    st.text(max_size=20).filter(lambda t: not t.startswith("--c")),
)
tokens = st.one_of(
    st.sampled_from(["showcfg", "set", "lsvols", "SET", "-h", "--", "-x", "--bogus"]),
    names, values)
command_lines = st.one_of(
    st.lists(tokens, max_size=5),
    st.tuples(st.just("set"), names, st.just("--"), values).map(list))


@FUZZ
@given(command_lines)
def test_any_command_line(argv: list[str]):
    with isolated(EXAMPLE.encode()):
        check(*run(argv))
