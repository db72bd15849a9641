"""`vssorch cleanup` (finish or roll back what a crash left) and `vssorch states`
(the lifecycle state tables as diagrams)."""
from __future__ import annotations

import functools
import json
import sys

from orchestrator.config import config_path, load_config


@functools.cache
def lifecycles() -> dict:
    """Kind -> lifecycle class. states/ (and transitions) load when a command needs them,
    not on every start of `vssorch`."""
    from states.create import CreateLifecycle
    from states.delete import DeleteLifecycle
    from states.exposure import ExposeLifecycle, UnexposeLifecycle
    from states.restore import RestoreLifecycle
    return {lc.KIND: lc for lc in (CreateLifecycle, DeleteLifecycle, RestoreLifecycle,
                                   ExposeLifecycle, UnexposeLifecycle)}


def __getattr__(name: str):
    if name == "LIFECYCLES":
        return lifecycles()
    raise AttributeError(name)


class _Kinds:
    """`states`' choices for argparse, read when `states` runs or shows its help."""

    def __iter__(self):
        return iter(sorted(lifecycles()))

    def __contains__(self, kind) -> bool:
        return kind in lifecycles()


def register(sub) -> None:
    p = sub.add_parser("cleanup", help="finish or roll back shadow-copy lifecycles a crash left unfinished")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run_cleanup)
    p = sub.add_parser("states", help="print the lifecycle state tables as diagrams")
    p.add_argument("kind", nargs="?", choices=_Kinds(), metavar="KIND",
                   help="one lifecycle kind, such as create (default: all)")
    p.add_argument("--format", choices=("mermaid", "table"), default="mermaid")
    p.set_defaults(func=run_states)


def run_cleanup(args) -> int:
    from orchestrator.engine import Orchestrator
    config = load_config(config_path(args.config))
    orch = Orchestrator.from_config(config)
    report = orch.cleanup()
    if args.json:
        print(json.dumps(report, indent=1))
    elif not report:
        print("nothing to clean up")
    else:
        for row in report:
            what = f"{row.get('kind', '?')} {row.get('lifecycle', '')} ({row['file']}, was {row.get('from', '?')})"
            extra = f": {row['error']}" if row.get("error") else ""
            print(f"{row['action']:<12} {what}{extra}")
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
    return "\n".join(rows)


def run_states(args) -> int:
    kinds = [args.kind] if args.kind else list(lifecycles())
    for kind in kinds:
        cls = lifecycles()[kind]
        print(mermaid(cls) if args.format == "mermaid" else table(cls))
        print()
    return 0
