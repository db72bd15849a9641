"""`vssorch batch FILE.yaml [--report FILE.json]`: run a batch file (orchestrator/batch.py).

Exit 0 when every job ran, 1 when one failed (it was undone and the rest skipped),
2 when the file or the command line is wrong (nothing ran).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from orchestrator.config import config_path, load_config
from orchestrator.errors import VssError
from orchestrator.output import Progress, emit, guarded

COLUMNS = (("name", "JOB"), ("action", "ACTION"), ("result", "RESULT"), ("requests", "REQUESTS"),
           ("summary", "DETAIL"))


def register(sub) -> None:
    p = sub.add_parser("batch", help="run the jobs of a YAML batch file in order")
    p.add_argument("file", metavar="FILE.yaml", help="the batch file")
    p.add_argument("--config", metavar="FILE", help="configuration file")
    p.add_argument("--report", metavar="FILE.json", help="also write a JSON report there")
    p.add_argument("--check", action="store_true", help="only check the file (also against the array)")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    p.set_defaults(func=guarded(run))


def run(args) -> int:
    from orchestrator import batch as batches      # its YAML checker and data client: only here
    batch = batches.load(Path(args.file))          # no array touched before this passes
    report_path = Path(args.report) if args.report else None
    if report_path is not None and report_path.is_dir():
        raise batches.BatchError(str(report_path), "--report names a folder, not a file")
    config = load_config(config_path(args.config))
    from orchestrator.engine import Orchestrator
    orch = Orchestrator.from_config(config)
    progress = Progress()
    runner = batches.Runner(batch, orch, say=(lambda t: None) if args.json else print,
                            progress=progress.update)
    runner.check_names()
    if args.check:
        print(f"{batch.source}: {len(batch.jobs)} jobs, all names found on the array")
        return 0
    started = time.time()
    try:
        outcomes = runner.run()
    finally:
        progress.done()
    report = batches.report(batch, outcomes, started)
    if report_path is not None:
        try:
            report_path.write_text(json.dumps(report, indent=1, default=str) + "\n")
        except OSError as exc:
            raise VssError(2506, f"{report_path}: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(report, indent=1, default=str))
    else:
        rows = [{**o.__dict__, "summary": o.error or o.detail} for o in outcomes]
        print()
        emit(rows, COLUMNS, False)
    failed = [o for o in outcomes if o.result == "failed"]
    if failed:
        print(f"vssorch: {failed[0].error}", file=sys.stderr)
        return 1
    return 0
