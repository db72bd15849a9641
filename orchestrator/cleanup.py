"""Cleanup: finish or roll back the lifecycles whose owner is gone.

- Two cleanups take turns (the folder's `cleanup.lock`); a lifecycle whose owner still
  holds its lock is reported as skipped and left alone, whoever asked (`vssorch
  cleanup`, the service's start, a failed batch job).
- Each kind's policy (complete, or roll back from which state) is its table's
  (states/__init__.py KINDS); the lifecycle runs as `recovering`: it reads every array
  object back and touches only what still carries its name (states/identity.py). What
  now belongs to another lifecycle is retired with a report line.
- A file that cannot be read is moved aside (`*.corrupt`) and reported with its path;
  the others go on.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from core.log import get_logger
from orchestrator import ownership
from core.errors import VssError, as_vss_error
from core.records import ShadowSet
from orchestrator.recordstore import is_unfinished
from orchestrator.recovery import RecoveryStore
from states import KINDS
from states.create import CreateLifecycle
from states.delete import DeleteLifecycle, Item
from states.exposure import ExposeLifecycle, UnexposeLifecycle
from states.machine import ROLLED_BACK, Lifecycle
from states.restore import RestoreLifecycle

if TYPE_CHECKING:
    from orchestrator.engine import Orchestrator

log = get_logger("vssorch.cleanup")
LOCK = "cleanup"
HOLDING = set(CreateLifecycle.STATES[CreateLifecycle.STATES.index("attached"):])   # a set's targets are its own


class Claims:
    """claims(target_id, shadow_id): the set whose file holds that target for another
    shadow copy, or None. A set holds its targets from its attach on: before that a
    chosen target is still in the free pool, and another set may take it. Rereads only
    the set files that changed since it last looked."""

    def __init__(self, store: RecoveryStore):
        self.store = store
        self._seen: dict[str, tuple[tuple[int, int], list[tuple[str, str]]]] = {}

    def _targets(self, key: str) -> list[tuple[str, str]]:
        try:
            st = os.stat(self.store.path(key))
        except FileNotFoundError:
            return []
        stamp = (st.st_mtime_ns, st.st_size)
        if key not in self._seen or self._seen[key][0] != stamp:
            try:
                record = (self.store.load(key) or {})["set"]
                held = record["state"] in HOLDING
                pairs = [(s["target_id"], s["shadow_id"]) for s in record["shadows"] if s.get("target_id") and held]
            except (VssError, KeyError, TypeError):
                pairs = []
            self._seen[key] = (stamp, pairs)
        return self._seen[key][1]

    def __call__(self, target_id: str, shadow_id: str) -> str | None:
        for key in self.store.keys():
            if key.startswith("set-") and any(t == target_id and s != shadow_id for t, s in self._targets(key)):
                return f"shadow-copy {key}"
        return None


def _check_record(key: str, data: dict) -> None:
    """A set file must hold a readable record, finished or not (2502 if not)."""
    if key.startswith("set-"):
        try:
            ShadowSet.from_json(data["set"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise VssError(2502, f"{key}: {type(exc).__name__}: {exc}") from None


def _revived(op: dict) -> dict[str, object]:
    """Where the lifecycle's file left it, for its constructor."""
    return {"state": op["state"], "pending": op["pending"], "rolling_back": op["rolling_back"],
            "recovering": True}


class Cleaner:
    def __init__(self, orch: "Orchestrator"):
        self.orch, self.store = orch, orch.store

    def run(self, only: set[str] | None = None) -> list[dict]:
        self.orch.ctx.fresh()
        self.store.claim(LOCK, wait=True)
        try:
            report = []
            for key in self.store.keys():
                if only is not None and key not in only:
                    continue
                row = self._one(key)
                if row is not None:
                    log.info("cleanup", **{k: v for k, v in row.items() if k != "retired"}, retired=len(row.get("retired", [])))
                    report.append(row)
            return report
        finally:
            self.store.let_go(LOCK)

    def _one(self, key: str) -> dict | None:
        try:
            data = self.store.load(key)
            if data is not None:
                _check_record(key, data)
        except VssError:
            data = {}                        # damaged: looked at under its lock below
        if data is None or (data and not is_unfinished(key, data)):
            return None
        if not self.store.claim(key, reenter=False):
            owner = data.get("owner")
            return {"file": key, "action": "skipped", "owner": owner,
                    "reason": f"in use by its owner, {ownership.describe(owner)}"}
        try:
            return self._owned(key)
        finally:
            self.store.let_go(key)

    def _owned(self, key: str) -> dict | None:
        """The file's lock is ours: read it again (its owner may have finished) and act."""
        try:
            data = self.store.load(key)
            if data is None:
                return None
            _check_record(key, data)
            if not is_unfinished(key, data):
                return None
            lc, row = self.revive(key, data)
        except VssError as exc:
            if exc.code != 2502:
                raise
            path = self.store.set_aside(key)
            log.error("recovery file moved aside", file=key, path=str(path), error=exc.detail)
            return {"file": key, "action": "moved aside", "path": str(path), "code": 2502, "error": exc.detail}
        try:
            row["action"] = self.recover(key, lc, data)
        except Exception as exc:    # noqa: BLE001 - reported; the others go on
            error = as_vss_error(exc)
            row.update(action="failed", code=2504, error=f"{error.detail} (code {error.code})")
        if lc.retired:
            row["retired"] = list(lc.retired)
        return row

    def revive(self, key: str, data: dict) -> tuple[Lifecycle, dict]:
        """The lifecycle a file holds, set to recover (2502 when the file makes no sense)."""
        o = self.orch
        # issubclass narrows the registry's type[Lifecycle] to a kind whose constructor
        # mypy knows; a kind in the other kind of file is a file that makes no sense.
        try:
            record: ShadowSet | None = None
            lc: Lifecycle
            if key.startswith("set-"):
                record, op = ShadowSet.from_json(data["set"]), data["op"]
                in_set, kind, kw = record, KINDS[op["kind"]], _revived(op)
                persist = (lambda l: o._save_set(l, in_set))
                if issubclass(kind, CreateLifecycle):
                    lc = kind(in_set, o.ctx, persist, **kw)
                elif issubclass(kind, (ExposeLifecycle, UnexposeLifecycle)):
                    lc = kind(in_set, op["shadow_ids"], op["host_name"], o.ctx, persist,
                              host_id=op.get("host_id"), **kw)
                else:
                    raise ValueError(f"a {kind.KIND} lifecycle in a set's file")
            else:
                op, items = data, [Item.from_json(i) for i in data["items"]]
                kind, kw = KINDS[op["kind"]], _revived(op)
                persist = (lambda l: o.store.save_op(key, l.snapshot()))
                if issubclass(kind, DeleteLifecycle):
                    lc = kind(op["lifecycle_id"], items, o.ctx, persist, o.store.owner_of_fcmap, o._forget,
                              foreign_stopped=op.get("foreign_stopped", []), **kw)
                elif issubclass(kind, RestoreLifecycle):
                    lc = kind(op["lifecycle_id"], items, o.ctx, persist, o.store.owner_of_fcmap, o._forget,
                              o._wait, reverse_id=op.get("reverse_id"), **kw)
                else:
                    raise ValueError(f"a {kind.KIND} lifecycle outside its set's file")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise VssError(2502, f"{self.store.path(key)}: {type(exc).__name__}: {exc}") from None
        row = {"file": key, "kind": lc.KIND, "lifecycle": lc.lifecycle_id, "from": op["state"]}
        if record is not None:
            row["set_id"] = record.set_id
        return lc, row

    def recover(self, key: str, lc: Lifecycle, data: dict) -> str:
        """Run the kind's policy; the file ends as the set's record, or goes."""
        op = data["op"] if key.startswith("set-") else data
        record = getattr(lc, "record", None) if lc.IN_SET_FILE else None
        if op["state"] == ROLLED_BACK:
            action = "rolled back"
        elif lc.completes(op, record.options.persistent if record else True):
            lc.run()
            action = "completed"
        else:
            lc.rollback()
            action = "rolled back"
        if record is not None and not (lc.KIND == "create" and action == "rolled back"):
            self.orch._save_set(lc, record)
        else:
            self.store.delete(key)
        return action

    def resume_deletes(self, shadow_ids: set[str]) -> list[str]:
        """Finish the deletes that a crash or a failure left of any of these shadow copies;
        the ids of the shadow copies they removed. 4001 when a live process runs one."""
        resumed: list[str] = []
        for key, data in self.store.items():
            items = data.get("items") or []
            if not key.startswith("delete-") or not {i["shadow"]["shadow_id"] for i in items} & shadow_ids:
                continue
            if not self.store.claim(key, reenter=False):
                raise VssError(4001, f"these shadow copies are being deleted by "
                                     f"{ownership.describe(data.get('owner'))} ({key})")
            try:
                current = self.store.load(key)
                if current is None:
                    continue
                lc, row = self.revive(key, current)
                # revive builds only a delete or a restore from a file that is not a set's
                assert isinstance(lc, (DeleteLifecycle, RestoreLifecycle))
                self.recover(key, lc, current)
                log.info("delete resumed", **row, retired=len(lc.retired))
                resumed += [i.shadow.shadow_id for i in lc.items]
            finally:
                self.store.let_go(key)
        return resumed
