"""The lifecycle runner: opens lifecycles, persists them, runs them, and cleans up after
crashes. Everything that changes shadow copies (VSS callbacks, CLI, batch) comes here.

Each lifecycle runs in its file of the state folder (orchestrator/recordstore.py says which
file holds what), and this process holds the file's lock (orchestrator/ownership.py) until
the lifecycle is over: cleanup (orchestrator/cleanup.py) touches only lifecycles whose
owner is gone.
"""
from __future__ import annotations

import dataclasses
import re
import threading
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from typing import Callable, Literal, Sequence

from core.log import get_logger
from core.errors import VssError, as_vss_error as _as_vss_error
from core.ids import array_volume_uid
from core.poll import FuncClock, Stalled, poll_until
from core.ports import ArrayPort, Consumer
from core.records import SetOptions, Shadow, ShadowSet
from orchestrator import ownership
from orchestrator.cleanup import Cleaner, Claims
from orchestrator.config import Config
from orchestrator.recordstore import RecordStore, op_key, set_key
from states.context import Context, Settings
from states.create import CreateLifecycle
from states.delete import DeleteLifecycle, Item
from states.exposure import ExposeLifecycle, UnexposeLifecycle
from states.machine import ROLLED_BACK, Lifecycle
from states.restore import RestoreLifecycle

log = get_logger("vssorch.engine")

_SET_ID = re.compile(r"^[A-Za-z0-9_.{}-]{1,80}$")


def settings_from(config: Config) -> Settings:
    return Settings(copy_rate=config.background_copy, incremental=config.incremental_lc,
                    free_host=config.free_host_name, reserved_host=config.res_host_name,
                    pool=config.storage_pool, iogroup=config.io_group,
                    thin=config.allocate_option == "se", compressed=config.compressed,
                    deduped=config.deduped)


def connect_array(config: Config) -> ArrayPort:
    from adapters.cim.array import CimArray     # pywbem only when an array is really used
    return CimArray.connect(config.cimom_host, config.cimom_port, ssl=config.using_ssl,
                            ca_file=str(config.ca_file) if config.ca_file else None,
                            username=config.username, password=config.password,
                            namespace=config.namespace, timeout_ms=config.cimom_timeout,
                            target_mcs=config.target_mcs or None)


class Orchestrator:
    def __init__(self, config: Config, array: ArrayPort, store: RecordStore,
                 consumer: Consumer | None = None, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.array = array
        self.store = store
        self.ctx = Context(array, settings_from(config), consumer)
        self._sleep, self._clock = sleep, clock
        self._lock = threading.RLock()          # cascades touch several sets' files
        self._live: dict[str, CreateLifecycle] = {}
        self.mine: set[str] = set()             # files of the lifecycles this engine opened
        self.ctx.claims = Claims(store)

    def close(self) -> None:
        """This process stops running lifecycles in this folder, as if it had exited: its
        locks go and cleanup may take what it left (a service stopped in a process that
        goes on)."""
        self._live.clear()
        ownership.forget_all(self.store.root)

    @classmethod
    def from_config(cls, config: Config,
                    consumer: Consumer | None | Literal["auto"] = "auto") -> "Orchestrator":
        if isinstance(consumer, str):   # "auto", the one text it takes
            from orchestrator.consumers import consumer_from_config
            consumer = consumer_from_config(config)
        return cls(config, connect_array(config), RecordStore(config.state_dir), consumer)

    # ------------------------------------------------------------ files
    def _save_set(self, lc: Lifecycle, record: ShadowSet) -> None:
        if isinstance(lc, CreateLifecycle):
            record.state = lc.state
        finished = lc.done or lc.state == ROLLED_BACK
        self.store.save_set(record, None if finished else lc.snapshot())

    def _open(self, key: str, lifecycle_id: str | None = None) -> None:
        """Become the owner of a lifecycle's file (4001 when a live process runs it)."""
        self.store.own(key)
        if lifecycle_id:
            self.store.note_id(lifecycle_id)
            self.mine.add(key)

    def _close(self, key: str) -> None:
        self.store.let_go(key)

    # the records (orchestrator/recordstore.py), for callers that hold an engine anyway
    def sets(self) -> list[ShadowSet]:
        return self.store.sets()

    def get_set(self, set_id: str) -> ShadowSet:
        return self.store.load_set(set_id)[0]

    def find_shadow(self, shadow_id: str) -> tuple[ShadowSet, Shadow]:
        return self.store.find_shadow(shadow_id)

    def _forget(self, items: list[Item]) -> None:
        """Remove deleted shadow copies from their sets; a set left empty goes."""
        with self._lock:
            self.store.forget([(i.set_id, i.shadow.shadow_id) for i in items])

    # ------------------------------------------------------------ lookups
    def volumes(self, uids: Sequence[str]):
        return self.array.volumes_by_uid([_uid(u) for u in uids])

    def supported(self, uids: Sequence[str]) -> dict[str, bool]:
        found = self.volumes(uids)
        return {u: _uid(u) in found for u in uids}

    # ------------------------------------------------------------ create
    def _create_lc(self, record: ShadowSet, op: dict | None = None) -> CreateLifecycle:
        kw = {}
        if op:
            kw = {"state": op["state"], "pending": op["pending"], "rolling_back": op["rolling_back"]}
        return CreateLifecycle(record, self.ctx, lambda lc: self._save_set(lc, record), **kw)

    def prepare(self, set_id: str, source_uids: Sequence[str], options: SetOptions | None = None) -> ShadowSet:
        if not _SET_ID.match(set_id or ""):
            raise VssError(4001, f"invalid shadow-copy set id {set_id!r}")
        options = dataclasses.replace(options) if options else SetOptions()   # the set's own copy
        key = set_key(set_id)
        with self._lock:
            shadows = [Shadow(shadow_id=str(uuid.uuid4()), source_uid=_uid(u), source_id="") for u in source_uids]
            if not self.store.claim(key, reenter=False):
                raise VssError(4001, f"shadow-copy set {set_id} already exists")
            if self.store.path(key).exists():
                self._close(key)
                raise VssError(4001, f"shadow-copy set {set_id} already exists")
            record = ShadowSet(set_id=set_id, lifecycle_id=uuid.uuid4().hex[:8], options=options,
                               shadows=shadows, state="new", created_at=time.time())
            try:
                self.store.note_id(record.lifecycle_id)
                lc = self._create_lc(record)
                lc._persist(lc)
            except BaseException:
                self._close(key)
                raise
            self.mine.add(key)
        self._run_or_undo(lc, until="prepared")
        self._live[set_id] = lc
        return record

    def creating(self, set_id: str) -> bool:
        """This process runs the set's create lifecycle now (it holds its lock)."""
        return set_id in self._live

    def _lc_for(self, set_id: str) -> CreateLifecycle:
        lc = self._live.get(set_id)
        if lc is None:
            record, op = self.store.load_set(set_id)
            if not op or op.get("kind") != "create":
                raise VssError(4001, f"shadow-copy set {set_id} is not being created")
            self._open(set_key(set_id))   # it goes on in this process (a restarted service)
            lc = self._create_lc(record, op)
            self._live[set_id] = lc
        return lc

    def _prepared(self, set_id: str) -> CreateLifecycle:
        lc = self._lc_for(set_id)
        if lc.state != "prepared":
            raise VssError(4001, f"shadow-copy set {set_id} is {lc.state}, not prepared")
        return lc

    def pre_commit(self, set_id: str) -> None:
        """Before the hold window: the set's file says "about to commit"."""
        self._prepared(set_id).arm("commit")

    def commit(self, set_id: str) -> None:
        """The point in time: one array request and no file write (pre_commit wrote
        ahead, post_commit writes the outcome; a crash between them rolls the set back)."""
        lc = self._prepared(set_id)
        lc.record.commit_time = time.time()
        self._run_or_undo(lc, armed="commit")

    def post_commit(self, set_id: str) -> ShadowSet:
        lc = self._lc_for(set_id)
        if lc.state != "committed" and not lc.done:
            raise VssError(4001, f"shadow-copy set {set_id} is {lc.state}, not committed")
        self._run_or_undo(lc)
        self._live.pop(set_id, None)
        self._close(set_key(set_id))
        return lc.record

    def create(self, source_uids: Sequence[str], options: SetOptions | None = None,
               freeze: Callable[[], AbstractContextManager[object]] | None = None,
               set_id: str | None = None) -> ShadowSet:
        set_id = set_id or str(uuid.uuid4())
        self.prepare(set_id, source_uids, options)
        self.pre_commit(set_id)
        with (freeze() if freeze else nullcontext()):
            self.commit(set_id)
        return self.post_commit(set_id)

    def _run_or_undo(self, lc: Lifecycle, until: str | None = None, armed: str | None = None) -> None:
        """Run to `until` (or only the `armed` step); on failure roll back what this
        lifecycle did, then report the failure."""
        try:
            if armed:
                lc.run_armed(armed)
            else:
                lc.run(until)
        except Exception as exc:
            error = _as_vss_error(exc)
            self.ctx.fresh()
            log.warning("lifecycle failed", lifecycle=lc.lifecycle_id, kind=lc.KIND, state=lc.state,
                        code=error.code, error=error.detail)
            self._undo(lc)
            raise error from None

    def _undo(self, lc: Lifecycle) -> None:
        if isinstance(lc, CreateLifecycle):
            self._live.pop(lc.record.set_id, None)
        try:
            if lc.can_roll_back():
                lc.rollback()
                if isinstance(lc, CreateLifecycle):
                    self.store.delete(set_key(lc.record.set_id))
        except Exception as exc:   # noqa: BLE001 - the file stays; cleanup finishes the job
            log.error("rollback failed; run vssorch cleanup", lifecycle=lc.lifecycle_id,
                      error=_as_vss_error(exc).detail)
        finally:
            if isinstance(lc, CreateLifecycle):
                self._close(set_key(lc.record.set_id))   # given up: cleanup may take it

    def abort(self, set_id: str) -> None:
        """Undo a set being created, whatever its state; a finished set is deleted."""
        key = set_key(set_id)
        lc = self._live.pop(set_id, None)
        if lc is None:
            record, op = self.store.load_set(set_id)
            if op is None or op.get("kind") != "create":
                self.delete(set_id=set_id)
                return
            self._open(key)
            lc = self._create_lc(record, op)
        try:
            if lc.done:
                self.delete(set_id=set_id)
                return
            try:
                lc.rollback()
            except Exception as exc:
                raise _as_vss_error(exc) from None
            self.store.delete(key)
        finally:
            self._close(key)

    # ------------------------------------------------------------ delete / restore
    def _items(self, set_id: str | None, shadow_id: str | None) -> list[Item]:
        if shadow_id:
            record, shadow = self.find_shadow(shadow_id)
            records, wanted = [record], {shadow_id}
        elif set_id is None:        # neither named: what load_set said of a set named None
            raise VssError(711, "no shadow-copy set named")
        else:
            records, wanted = [self.get_set(set_id)], None
        items = []
        for record in records:
            if record.state != "done":
                raise VssError(4001, f"shadow-copy set {record.set_id} is {record.state}: abort it instead")
            items += [Item(record.set_id, s) for s in record.shadows if wanted is None or s.shadow_id in wanted]
        return items

    def delete(self, set_id: str | None = None, shadow_id: str | None = None) -> list[str]:
        with self._lock:
            items = self._items(set_id, shadow_id)
            # a delete of these shadow copies that a crash or a failure left is finished
            # first: never a second delete beside it
            resumed = Cleaner(self).resume_deletes({i.shadow.shadow_id for i in items})
            if resumed:
                try:
                    items = [i for i in self._items(set_id, shadow_id) if i.shadow.shadow_id not in resumed]
                except VssError:
                    items = []           # the set or the shadow copy is gone now
                if not items:
                    return resumed
            lcid = uuid.uuid4().hex[:8]
            key = op_key("delete", lcid)
            lc = DeleteLifecycle(lcid, items, self.ctx, lambda l: self.store.save_op(key, l.snapshot()),
                                 self.store.owner_of_fcmap, self._forget)
            self._run_op(key, lc, {i.set_id for i in items})
            return resumed + [i.shadow.shadow_id for i in lc.items]

    def restore(self, shadow_id: str) -> list[str]:
        with self._lock:
            items = self._items(None, shadow_id)
            lcid = uuid.uuid4().hex[:8]
            key = op_key("restore", lcid)
            lc = RestoreLifecycle(lcid, items, self.ctx, lambda l: self.store.save_op(key, l.snapshot()),
                                  self.store.owner_of_fcmap, self._forget, self._wait)
            self._run_op(key, lc, {i.set_id for i in items})
            return [i.shadow.shadow_id for i in lc.items]

    def _run_op(self, key: str, lc: Lifecycle, set_ids: set[str]) -> None:
        """Run a delete or restore as the owner of its file and of the sets it changes."""
        held: list[str] = []
        try:
            for k in [key, *(set_key(s) for s in sorted(set_ids))]:
                self._open(k, lc.lifecycle_id if k == key else None)
                held.append(k)
            lc.run()
        except Exception as exc:
            error = _as_vss_error(exc)
            self.ctx.fresh()
            if key in held and lc.can_roll_back():
                self._undo(lc)
                if lc.state == ROLLED_BACK:
                    self.store.delete(key)
            raise error from None
        finally:
            for k in held:
                self._close(k)
        self.store.delete(key)

    def _wait(self, probe: Callable[[], object], what: str) -> None:
        """Until probe() is not Pending (a copy that keeps moving may take as long as it
        takes); 740 when its progress stood still for restoreStallSeconds."""
        limit = self.config.restore_stall_seconds
        try:
            poll_until(probe, clock=FuncClock(self._clock, self._sleep), interval=0.2, stall=limit, what=what)
        except Stalled:
            raise VssError(740, f"{what} made no progress for {limit} s") from None

    # ------------------------------------------------------------ hosts
    def _on_set(self, cls, set_id: str, shadow_ids: list[str] | None, host_name: str | None) -> ShadowSet:
        key = set_key(set_id)
        with self._lock:
            self._open(key)
            self.mine.add(key)       # a failed rollback here is this engine's to finish
            try:
                return self._run_on_set(cls, set_id, shadow_ids, host_name)
            finally:
                self._close(key)

    def _run_on_set(self, cls, set_id: str, shadow_ids: list[str] | None, host_name: str | None) -> ShadowSet:
        record, op = self.store.load_set(set_id)
        if op is not None or record.state != "done":
            raise VssError(4001, f"shadow-copy set {set_id} is busy ({(op or {}).get('kind', record.state)})")
        ids = shadow_ids or [s.shadow_id for s in record.shadows]
        lc = cls(record, ids, host_name, self.ctx, lambda l: self._save_set(l, record))
        try:
            lc.run()
        except Exception as exc:
            error = _as_vss_error(exc)
            self.ctx.fresh()
            if lc.can_roll_back():
                try:
                    lc.rollback()
                except Exception:   # noqa: BLE001 - the file keeps it for cleanup
                    raise error from None
                self._save_set(lc, record)
            raise error from None
        return record

    def import_set(self, set_id: str, host_name: str | None = None) -> ShadowSet:
        return self._on_set(ExposeLifecycle, set_id, None, host_name)

    def expose(self, shadow_id: str, host_name: str | None = None) -> Shadow:
        record, _ = self.find_shadow(shadow_id)
        record = self._on_set(ExposeLifecycle, record.set_id, [shadow_id], host_name)
        return next(s for s in record.shadows if s.shadow_id == shadow_id)

    def unexpose(self, shadow_id: str, host_name: str | None = None) -> Shadow:
        record, _ = self.find_shadow(shadow_id)
        record = self._on_set(UnexposeLifecycle, record.set_id, [shadow_id], host_name)
        return next(s for s in record.shadows if s.shadow_id == shadow_id)

    def unexpose_set(self, set_id: str, host_name: str | None = None) -> ShadowSet:
        return self._on_set(UnexposeLifecycle, set_id, None, host_name)

    # ------------------------------------------------------------ cleanup
    def unfinished(self) -> list[tuple[str, dict]]:
        """The readable files of lifecycles still under way (whoever runs them)."""
        return self.store.unfinished()

    def cleanup(self, own: bool = False) -> list[dict]:
        """Finish or roll back every unfinished lifecycle whose owner is gone (with `own`:
        only those this engine opened). Safe to run again; two cleanups take turns."""
        return Cleaner(self).run(self.mine if own else None)

    def orphans(self, remove: bool = False) -> list[dict]:
        """Array objects of this folder's lifecycles that no file accounts for
        (orchestrator/orphans.py); with `remove`, they go back to the free pool or go."""
        from orchestrator.orphans import Reconciler
        rec = Reconciler(self)
        return [o.as_dict() for o in (rec.remove() if remove else rec.find())]


def _uid(text: str) -> str:
    uid = array_volume_uid(text)
    if uid is None:
        raise VssError(201, f"{text!r} is not a 32-digit volume UID")
    return uid
