"""A batch job whose abort fails (the array went away during its verify) leaves a set
that `cleanup` sees and undoes, once the array is back."""
from __future__ import annotations

from orchestrator.batch import parse
from orchestrator.batch_run import Runner
from orchestrator.config import load_config
from orchestrator.consumers import data_endpoint
from orchestrator.engine import Orchestrator

from tests.support.data import fill
from tests.support.demo import BACKUP_IQN, HOST_IQN, SRC1

BATCH = """jobs:
  - name: nightly
    create:
      volumes: [vss_src_vol]
      transportable: true
      import_to: backup_host
      verify: true
"""


class ArrayDiesAtVerify:
    """The real data endpoint; the array process is killed when the first target is read."""

    def __init__(self, config, array):
        self.real, self.array = data_endpoint(config), array

    def read(self, initiator: str, uid: str, offset: int, length: int) -> bytes:
        if uid != SRC1 and self.array.proc.poll() is None:
            self.array.proc.kill()
            self.array.proc.wait()
        return self.real.read(initiator, uid, offset, length)


def test_a_failed_abort_leaves_a_set_cleanup_undoes(array, view, make_orch, tmp_path):
    fill(array, SRC1, b"nightly ")
    baseline = view.snapshot()
    orch = make_orch("b", simInitiator=HOST_IQN)
    runner = Runner(parse(BATCH, "b.yaml"), orch, data=ArrayDiesAtVerify(orch.config, array), say=lambda _: None)
    runner.check_names()
    [outcome] = runner.run()
    assert outcome.result == "failed" and outcome.code == 3002
    array.kill_and_restart()                       # back, with the imported copy still there
    assert view.snapshot() != baseline
    report = Orchestrator.from_config(load_config(tmp_path / "b.yaml"), consumer=None).cleanup()
    assert [(r["kind"], r["action"]) for r in report] == [("delete", "completed")]
    assert view.snapshot() == baseline and array.host_luns(BACKUP_IQN) == []
    assert Orchestrator.from_config(load_config(tmp_path / "b.yaml"), consumer=None).sets() == []
