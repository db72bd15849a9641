"""The README's configuration and error-code tables and docs/STATES.md are written by
hand or generated once; these tests fail when the code they describe moves on."""
import re
import subprocess
from pathlib import Path

from orchestrator.config import PARAMS, Config
from core.errors import MESSAGES

ROOT = Path(__file__).resolve().parents[1]


def _table(heading: str) -> list[list[str]]:
    """The cells of the first table after `heading` in the README, header rows left out."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n{heading}\n", 1)[1]
    rows = []
    for line in section.split("\n## ", 1)[0].splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.append(cells)
    assert rows, f"no table under {heading!r}"
    return rows[1:]


def _plain(cell: str) -> str:
    return cell.strip("`")


def test_readme_parameter_table_matches_the_config_table():
    rows = {_plain(r[0]): r for r in _table("## Configuration reference")}
    assert list(rows) == [p.key for p in PARAMS], "README lists other parameters or another order"
    defaults = Config()
    for p in PARAMS:
        _, default, aliases, env, meaning = rows[p.key]
        # stateDir's default depends on the OS: the README gives both, the POSIX one first.
        default = re.sub(r" \(Windows: .*\)$", "", _plain(default))
        assert default == (p.show(defaults) or "(empty)"), p.key
        assert tuple(a.strip() for a in aliases.split(",") if a.strip()) == p.aliases, p.key
        assert (env or None) == p.env, p.key
        assert meaning, f"{p.key} has no meaning in the README"


def test_readme_error_table_matches_the_messages():
    rows = {int(code): meaning for code, meaning in _table("## Error codes")}
    assert rows == dict(MESSAGES)


def test_states_md_is_what_the_generator_writes(tmp_path):
    fresh = tmp_path / "STATES.md"
    subprocess.run(["bash", str(ROOT / "scripts" / "make-state-docs.sh"), str(fresh)], check=True)
    assert fresh.read_text(encoding="utf-8") == (ROOT / "docs" / "STATES.md").read_text(encoding="utf-8"), \
        "docs/STATES.md is stale: run scripts/make-state-docs.sh"
