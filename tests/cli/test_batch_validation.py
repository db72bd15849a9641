"""Batch files are checked whole before anything runs: one line naming file:line, exit 2."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.batch import BatchError, Create, Restore, parse
from tests.support.commands import GOOD, one_line_error
from tests.support.view import READS

def test_a_good_file_parses_into_jobs():
    batch = parse(GOOD, "b.yaml")
    assert [(j.name, j.action) for j in batch.jobs] == [
        ("a", "create"), ("job2", "write"), ("job3", "restore"), ("job4", "delete")]
    assert batch.jobs[0].spec == Create(volumes=["vss_src_vol", "60050760008D89C0D000000000000002"],
                                        transportable=True, import_to="backup_host", copy_rate=0,
                                        keep=2, verify=True)
    assert batch.jobs[2].spec == Restore("a", True)


BAD = [
    ("", "b.yaml: the file is empty", 2502),
    ("jobs: [\n", "b.yaml:2:", 2502),
    ("- a\n", "b.yaml:1: the file must be a mapping", 2502),
    ("job: []\n", "b.yaml:1: the file: unknown key 'job' (allowed: jobs)", 1003),
    ("jobs:\n", "b.yaml:1: jobs must be a list", 2502),
    ("jobs: []\n", "b.yaml:1: jobs must be a list", 2502),
    ("jobs:\n  - {}\n", "b.yaml:2: job job1 needs exactly one of create, write, restore, delete", 1002),
    ("jobs:\n  - create: {volumes: [a]}\n    delete: {job: x}\n", "b.yaml:2: job job1 needs exactly one", 2502),
    ("jobs:\n  - create: {}\n", "b.yaml:2: job job1 create needs 'volumes'", 1002),
    ("jobs:\n  - create:\n      volumes: []\n", "b.yaml:3: job job1 create volumes must be a list", 1006),
    ("jobs:\n  - create:\n      volumes: [a, a]\n", "b.yaml:3: job job1 create volumes: a given twice", 1006),
    ("jobs:\n  - create:\n      volumes: [a]\n      copy_rate: 101\n",
     "b.yaml:4: job job1 create copy_rate must be an integer 0..100", 1006),
    ("jobs:\n  - create:\n      volumes: [a]\n      copy_rate: -1\n", "b.yaml:4:", 1006),
    ("jobs:\n  - create:\n      volumes: [a]\n      keep: 0\n", "b.yaml:4: job job1 create keep must be", 1006),
    ("jobs:\n  - create:\n      volumes: [a]\n      verify: maybe\n",
     "b.yaml:4: job job1 create verify must be true or false", 1006),
    ("jobs:\n  - create:\n      volumes: [a]\n      verify_bytes: 1000\n",
     "b.yaml:4: job job1 create verify_bytes must be a multiple of 512", 1006),
    ("jobs:\n  - create:\n      volumes: [a]\n      import_to: backup_host\n",
     "b.yaml:4: job job1 create: import_to needs transportable: true", 1006),
    ("jobs:\n  - create:\n      volumes: [a]\n      import_to: 'bad host'\n", "b.yaml:4:", 1006),
    ("jobs:\n  - create:\n      volumes: [a]\n      incremantal: true\n",
     "b.yaml:4: job job1 create: unknown key 'incremantal'", 1003),
    ("jobs:\n  - restore: {job: nope}\n", "b.yaml:2: job job1 restore: no earlier create job named nope", 711),
    ("jobs:\n  - delete: {job: b}\n  - name: b\n    create: {volumes: [a]}\n",
     "b.yaml:2: job job1 delete: no earlier create job named b", 711),
    ("jobs:\n  - name: a\n    create: {volumes: [a]}\n  - restore: {job: a, verify: true}\n",
     "b.yaml:4: job job2 restore: verify needs verify: true on job a", 711),
    ("jobs:\n  - name: a\n    create: {volumes: [a]}\n  - name: a\n    delete: {job: a}\n",
     "b.yaml:4: job name a is used twice", 711),
    ("jobs:\n  - name: 'a b'\n    create: {volumes: [a]}\n", "b.yaml:2: job 1 name: 'a b' is not a valid name", 1006),
    ("jobs:\n  - write: {volumes: [a]}\n", "b.yaml:2: job job1 write needs 'text'", 1002),
    ("jobs:\n  - write: {volumes: [a], text: ''}\n", "b.yaml:2: job job1 write text must be 1..4096 bytes", 1006),
    ("jobs:\n  - create: {volumes: [[a]]}\n", "b.yaml:2: job job1 create volumes entry must be a single value", 1006),
    ("jobs:\n  - create: {volumes: [a], volumes: [b]}\n", "b.yaml:2: job job1 create: volumes given twice", 2502),
    ("jobs: &a [*a]\n", "b.yaml:1:", 2502),
]


@pytest.mark.parametrize("text, message, code", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_files_name_the_line_and_say_what_is_wrong(text, message, code):
    # codes: 2502 syntax/shape, 1003 unknown key, 1002 missing key, 1006 type or value,
    # 711 reference to a job (README, "Batch files")
    with pytest.raises(BatchError) as caught:
        parse(text, "b.yaml")
    shown = str(caught.value)
    assert message in shown and "\n" not in shown
    assert caught.value.code == code


def test_the_command_reports_one_line_and_exit_2_before_reading_the_config(run, tmp_path: Path):
    path = tmp_path / "b.yaml"
    path.write_text("jobs:\n  - create:\n      volumes: [a]\n      copy_rate: lots\n")
    done = run("vssorch", "batch", str(path), "--config", str(tmp_path / "missing.yaml"))
    err = one_line_error(done, "vssorch", 1006, 2)
    assert f"{path}:4: job job1 create copy_rate must be an integer 0..100" in err
    assert done.stdout == ""


@pytest.mark.parametrize("content", [None, b"\xff\xfe bad", "dir"])
def test_unreadable_files(run, tmp_path: Path, content):
    path = tmp_path / "b.yaml"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    one_line_error(run("vssorch", "batch", str(path)), "vssorch", 2505, 2)


@pytest.mark.parametrize("job, line, message", [
    ("  - create: {volumes: [vss_src_vol, no_such_vol]}\n", 2, "error 201:"),
    ("  - create:\n      volumes: [vss_src_vol]\n      transportable: true\n      import_to: nobody\n",
     5, "the array has no host 'nobody'"),
    ("  - create: {volumes: [vss_src_vol, 60050760008D89C0D000000000000001]}\n", 2, "named twice"),
])
def test_names_the_array_lacks_are_input_errors_and_change_nothing(run, tmp_path, view, config,
                                                                  job, line, message):
    path = tmp_path / "b.yaml"
    path.write_text("jobs:\n" + job)
    before, requests = view.snapshot(), view.requests()
    done = run("vssorch", "batch", str(path), "--config", str(config))
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"{path}:{line}:" in done.stderr and message in done.stderr
    assert view.snapshot() == before
    # the array was only read (volume listing, host look-ups): no method was invoked
    assert view.requests() > requests
    assert set(view.proc.stats()) <= READS, view.proc.stats()
