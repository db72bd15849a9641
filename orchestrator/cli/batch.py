"""`vssorch batch FILE.yaml [--report FILE.json] [--check] [--json]`: run a batch file
(orchestrator/batch.py).

Exit 0 when every job ran, 1 when one failed (it was undone and the rest skipped),
2 when the file or the command line is wrong (nothing ran).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from orchestrator.config import config_path, load_config
from core.errors import VssError, as_vss_error
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


def check_report_path(path: Path) -> None:
    """--report must be writable before anything runs: a report that cannot be written
    after the jobs ran would lose what they did. Nothing is created here."""
    from orchestrator.batch import BatchError

    def refuse(why: str):
        raise BatchError(f"--report {path}", why, 2506)
    if path.is_dir():
        refuse("is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        refuse(f"the folder {folder} does not exist")
    writable = os.access(path, os.W_OK) if path.exists() else os.access(folder, os.W_OK | os.X_OK)
    if not writable:
        refuse("cannot be written (permission denied)")


def run(args) -> int:
    try:
        return _run(args)
    except VssError as exc:
        if args.json:      # scripts read stdout: the failure there too, the line on stderr as always
            print(json.dumps({"file": args.file, "ok": False, "code": exc.code, "error": str(exc)}, indent=1))
        raise


def _run(args) -> int:
    from orchestrator import batch as batches      # its YAML checker and data client: only here
    batch = batches.load(Path(args.file))          # no array touched before this passes
    report_path = Path(args.report) if args.report else None
    if report_path is not None:
        check_report_path(report_path)
    config = load_config(config_path(args.config))
    from orchestrator.engine import Orchestrator
    orch = Orchestrator.from_config(config)
    progress = Progress()
    runner = batches.Runner(batch, orch, say=(lambda t: None) if args.json else print,
                            progress=progress.update)
    try:
        runner.check_names()
    except Exception as exc:        # noqa: BLE001 - the array's refusal (5, 3002, ...) with its code
        raise as_vss_error(exc) from None
    if args.check:
        if args.json:
            print(json.dumps({"file": batch.source, "ok": True, "checked": "file and names on the array",
                              "jobs": [{"name": j.name, "action": j.action, "line": j.line,
                                        "volumes": {i: runner.volumes[i].uid for i in getattr(j.spec, "volumes", [])}}
                                       for j in batch.jobs]}, indent=1))
        else:
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
