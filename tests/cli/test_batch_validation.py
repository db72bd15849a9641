"""Batch files are checked whole before anything runs: one line naming file:line, exit 2."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.batch import BatchError, Create, Restore, parse
from tests.cli.conftest import READS, needs_cim, one_line_error

GOOD = """\
jobs:
  - name: a
    create:
      volumes: [vss_src_vol, 60050760008D89C0D000000000000002]
      transportable: yes
      import_to: backup_host
      copy_rate: 0
      keep: 2
      verify: true
  - write: {volumes: [vss_src_vol], text: x}
  - restore: {job: a, verify: true}
  - delete: {job: a}
"""


def test_a_good_file_parses_into_jobs():
    batch = parse(GOOD, "b.yaml")
    assert [(j.name, j.action) for j in batch.jobs] == [
        ("a", "create"), ("job2", "write"), ("job3", "restore"), ("job4", "delete")]
    assert batch.jobs[0].spec == Create(volumes=["vss_src_vol", "60050760008D89C0D000000000000002"],
                                        transportable=True, import_to="backup_host", copy_rate=0,
                                        keep=2, verify=True)
    assert batch.jobs[2].spec == Restore("a", True)


BAD = [
    ("", "b.yaml: the file is empty"),
    ("jobs: [\n", "b.yaml:2:"),
    ("- a\n", "b.yaml:1: the file must be a mapping"),
    ("job: []\n", "b.yaml:1: the file: unknown key 'job' (allowed: jobs)"),
    ("jobs:\n", "b.yaml:1: jobs must be a list"),
    ("jobs: []\n", "b.yaml:1: jobs must be a list"),
    ("jobs:\n  - {}\n", "b.yaml:2: job job1 needs exactly one of create, write, restore, delete"),
    ("jobs:\n  - create: {volumes: [a]}\n    delete: {job: x}\n", "b.yaml:2: job job1 needs exactly one"),
    ("jobs:\n  - create: {}\n", "b.yaml:2: job job1 create needs 'volumes'"),
    ("jobs:\n  - create:\n      volumes: []\n", "b.yaml:3: job job1 create volumes must be a list"),
    ("jobs:\n  - create:\n      volumes: [a, a]\n", "b.yaml:3: job job1 create volumes: a given twice"),
    ("jobs:\n  - create:\n      volumes: [a]\n      copy_rate: 101\n",
     "b.yaml:4: job job1 create copy_rate must be an integer 0..100"),
    ("jobs:\n  - create:\n      volumes: [a]\n      copy_rate: -1\n", "b.yaml:4:"),
    ("jobs:\n  - create:\n      volumes: [a]\n      keep: 0\n", "b.yaml:4: job job1 create keep must be"),
    ("jobs:\n  - create:\n      volumes: [a]\n      verify: maybe\n",
     "b.yaml:4: job job1 create verify must be true or false"),
    ("jobs:\n  - create:\n      volumes: [a]\n      verify_bytes: 1000\n",
     "b.yaml:4: job job1 create verify_bytes must be a multiple of 512"),
    ("jobs:\n  - create:\n      volumes: [a]\n      import_to: backup_host\n",
     "b.yaml:4: job job1 create: import_to needs transportable: true"),
    ("jobs:\n  - create:\n      volumes: [a]\n      import_to: 'bad host'\n", "b.yaml:4:"),
    ("jobs:\n  - create:\n      volumes: [a]\n      incremantal: true\n",
     "b.yaml:4: job job1 create: unknown key 'incremantal'"),
    ("jobs:\n  - restore: {job: nope}\n", "b.yaml:2: job job1 restore: no earlier create job named nope"),
    ("jobs:\n  - delete: {job: b}\n  - name: b\n    create: {volumes: [a]}\n",
     "b.yaml:2: job job1 delete: no earlier create job named b"),
    ("jobs:\n  - name: a\n    create: {volumes: [a]}\n  - restore: {job: a, verify: true}\n",
     "b.yaml:4: job job2 restore: verify needs verify: true on job a"),
    ("jobs:\n  - name: a\n    create: {volumes: [a]}\n  - name: a\n    delete: {job: a}\n",
     "b.yaml:4: job name a is used twice"),
    ("jobs:\n  - name: 'a b'\n    create: {volumes: [a]}\n", "b.yaml:2: job 1 name: 'a b' is not a valid name"),
    ("jobs:\n  - write: {volumes: [a]}\n", "b.yaml:2: job job1 write needs 'text'"),
    ("jobs:\n  - write: {volumes: [a], text: ''}\n", "b.yaml:2: job job1 write text must be 1..4096 bytes"),
    ("jobs:\n  - create: {volumes: [[a]]}\n", "b.yaml:2: job job1 create volumes entry must be a single value"),
    ("jobs:\n  - create: {volumes: [a], volumes: [b]}\n", "b.yaml:2: job job1 create: volumes given twice"),
    ("jobs: &a [*a]\n", "b.yaml:1:"),
]


@pytest.mark.parametrize("text, message", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_files_name_the_line(text, message):
    with pytest.raises(BatchError) as caught:
        parse(text, "b.yaml")
    shown = str(caught.value)
    assert message in shown and "\n" not in shown
    assert caught.value.code == 1002


def test_the_command_reports_one_line_and_exit_2_before_reading_the_config(run, tmp_path: Path):
    path = tmp_path / "b.yaml"
    path.write_text("jobs:\n  - create:\n      volumes: [a]\n      copy_rate: lots\n")
    done = run("vssorch", "batch", str(path), "--config", str(tmp_path / "missing.yaml"))
    err = one_line_error(done, "vssorch", 1002, 2)
    assert f"{path}:4: job job1 create copy_rate must be an integer 0..100" in err
    assert done.stdout == ""


@pytest.mark.parametrize("content", [None, b"\xff\xfe bad", "dir"])
def test_unreadable_files(run, tmp_path: Path, content):
    path = tmp_path / "b.yaml"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    one_line_error(run("vssorch", "batch", str(path)), "vssorch", 1002, 2)


@needs_cim
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
