"""The product's commands run as a user runs them: the console script (or its module before
the project is installed), an environment with no VSSORCH_* inherited, the one-line error
every refusal must be, and a valid batch file for the batch tests to start from."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

MODULES = {"inspurvcfg": "orchestrator.cli.inspurvcfg", "vssorch": "orchestrator.cli.main"}

# A valid batch file using every action, for the validation and fuzz tests to start from.
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


def script(name: str) -> list[str]:
    """The console script once the project is installed (pip install -e); before that,
    the module runs the same main()."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", MODULES[name]]


def clean_env() -> dict[str, str]:
    """This process's environment without the caller's configuration or password variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VSSORCH_")}


def one_line_error(done: subprocess.CompletedProcess, prog: str, code: int, exit_code: int) -> str:
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"{prog}: error {code}:"), done.stderr
    return done.stderr
