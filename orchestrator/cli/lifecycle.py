"""`vssorch cleanup` (finish or roll back what a crash left; find and remove orphans) and
`vssorch states` (the state tables as diagrams: the lifecycles, the VSS provider's phase
order and the embedded array's FlashCopy mapping states)."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from orchestrator.config import config_path, load_config


def lifecycles() -> dict:
    """Kind -> lifecycle class (the registry states.KINDS). states/ (and transitions) load
    when a command needs them, not on every start of `vssorch`."""
    from states import KINDS
    return KINDS


@dataclass(frozen=True)
class Table:
    """A state table that is not a lifecycle, as `states` draws it."""

    title: str
    notes: str                                  # its module's description, for docs/STATES.md
    states: list[str]
    initial: str
    rows: list[tuple[str, str, str, bool]]      # trigger, from, to, an event (not a call)


def _vss_phases() -> Table:
    from orchestrator import vss_phases as t
    return Table("VSS provider phases", t.__doc__ or "", [p.value for p in t.Phase], t.Phase.NEW.value,
                 [(s.trigger, s.source.value, s.dest.value, s.trigger in t.EVENTS) for s in t.STEPS])


def _flashcopy_states() -> Table:
    from simulator import flashcopy_states as t
    return Table("FlashCopy mapping states", t.__doc__ or "", [*t.STATES, t.DELETED], t.IDLE,
                 [(m.trigger, m.source, m.dest, m.event) for m in t.MOVES])


# name -> its table, loaded only when drawn (the FlashCopy table is the embedded array's)
TABLES = {"vss": _vss_phases, "flashcopy": _flashcopy_states}


class _Kinds:
    """`states`' choices for argparse, read when `states` runs or shows its help."""

    def __iter__(self):
        return iter([*sorted(lifecycles()), *TABLES])

    def __contains__(self, kind) -> bool:
        return kind in TABLES or kind in lifecycles()


def register(sub) -> None:
    p = sub.add_parser("cleanup", help="finish or roll back shadow-copy lifecycles a crash left unfinished")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--orphans", action="store_true",
                      help="only list array objects of this host's lifecycles that no file accounts for")
    what.add_argument("--remove-orphans", action="store_true",
                      help="clean up, then return those objects to the free pool or delete them")
    p.set_defaults(func=run_cleanup)
    p = sub.add_parser("states", help="print the state tables as diagrams")
    p.add_argument("kind", nargs="?", choices=_Kinds(), metavar="KIND",
                   help="one lifecycle kind, such as create; vss (the provider's phase order) or "
                        "flashcopy (the embedded array's mapping states) (default: all)")
    p.add_argument("--format", choices=("mermaid", "table"), default="mermaid")
    p.set_defaults(func=run_states)


def _row_lines(row: dict) -> list[str]:
    if row["action"] == "moved aside":
        return [f"{'moved aside':<12} {row['file']}: unreadable ({row['error']}); now {row['path']}"
                " (its array objects: vssorch cleanup --orphans)"]
    if row["action"] == "skipped":
        return [f"{'skipped':<12} {row['file']}: {row['reason']}"]
    what = f"{row.get('kind', '?')} {row.get('lifecycle', '')} ({row['file']}, was {row.get('from', '?')})"
    extra = f": {row['error']}" if row.get("error") else ""
    return [f"{row['action']:<12} {what}{extra}"] + [f"{'retired':<12} {note}" for note in row.get("retired", [])]


def _orphan_line(o: dict) -> str:
    where = f" shown to {', '.join(o['hosts'])}" if o["hosts"] else ""
    note = f" ({o['note']})" if o["note"] else ""
    return f"{o['action']:<12} {o['kind']} {o['id']} {o['name'] or ''}".rstrip() + f" of lifecycle {o['lifecycle']}{where}{note}"


def run_cleanup(args) -> int:
    from orchestrator.engine import Orchestrator
    config = load_config(config_path(args.config))
    orch = Orchestrator.from_config(config, consumer=None if args.orphans else "auto")
    report = [] if args.orphans else orch.cleanup()
    orphans = orch.orphans(remove=True) if args.remove_orphans else orch.orphans() if args.orphans else None
    if args.json:
        print(json.dumps(report if orphans is None else {"cleanup": report, "orphans": orphans}, indent=1))
    else:
        lines = [line for row in report for line in _row_lines(row)]
        lines += [_orphan_line(o) for o in orphans or []]
        if not lines:
            lines = ["no orphans" if args.orphans else "nothing to clean up"]
        print("\n".join(lines))
    failed = [r for r in report if r["action"] == "failed"]
    if failed:
        print(f"vssorch: error: {len(failed)} lifecycle(s) could not be cleaned up (code 2504)", file=sys.stderr)
        return 1
    return 0


def mermaid(cls) -> str:
    from transitions.extensions import GraphMachine

    class Model:
        pass

    model = Model()
    cls.build_machine(model, cls.STATES[0], machine_class=GraphMachine, graph_engine="mermaid", give_up=False,
                      title=f"{cls.KIND} lifecycle", show_state_attributes=False)
    return model.get_graph().draw(None)  # type: ignore[attr-defined]  # added by GraphMachine


def table(cls) -> str:
    rows = [f"{cls.KIND}:"]
    for s in cls.STEPS:
        rows.append(f"  {s.source:>16} --{s.trigger}--> {s.dest}" + ("" if s.undoable else "   (not undone)"))
    rows.append(f"  {cls.policy()}")
    return "\n".join(rows)


def table_mermaid(t: Table) -> str:
    from transitions.extensions import GraphMachine

    class Model:
        pass

    model = Model()
    GraphMachine(model=model, states=t.states, initial=t.initial, auto_transitions=False,
                 transitions=[{"trigger": trigger, "source": src, "dest": dst} for trigger, src, dst, _ in t.rows],
                 graph_engine="mermaid", title=t.title, show_state_attributes=False)
    return model.get_graph().draw(None)  # type: ignore[attr-defined]  # added by GraphMachine


def table_rows(kind: str, t: Table) -> str:
    rows = [f"{kind}:"]
    for trigger, src, dst, event in t.rows:
        rows.append(f"  {src:>16} --{trigger}--> {dst}" + ("   (event)" if event else ""))
    return "\n".join(rows)


def run_states(args) -> int:
    kinds = [args.kind] if args.kind else [*lifecycles(), *TABLES]
    for kind in kinds:
        if kind in TABLES:
            t = TABLES[kind]()
            print(table_mermaid(t) if args.format == "mermaid" else table_rows(kind, t))
        else:
            cls = lifecycles()[kind]
            print(mermaid(cls) if args.format == "mermaid" else table(cls))
        print()
    return 0
