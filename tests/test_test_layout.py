"""The tests' own layout (issue 18): helpers shared across test packages live in tests/support;
no test module imports a conftest or another test module, a package's own helper modules
(tests/esxi/fabric.py, ...) are imported only from that package, and tests/support imports
nothing of the test packages. Read from the real tree with ast."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def file_of(name: str) -> Path | None:
    """The file under tests/ a module name stands for, if any."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file() and TESTS in candidate.parents:
            return candidate
    return None


def imported(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """(line, module) for every import, relative ones resolved; `from P import m` also
    counts as importing module P.m."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(path: Path, source: str) -> list[str]:
    """What is wrong with the imports of the test file at `path` holding `source`."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    own = path.parent
    in_support = TESTS / "support" in (own, *own.parents)
    out = []
    for line, target in imported(ast.parse(source), package):
        found = file_of(target)
        if found is None or found == path:
            continue
        where = f"{path.relative_to(ROOT)}:{line} imports {target}"
        if found.name == "conftest.py" or found.name.startswith("test_"):
            out.append(f"{where}: a conftest or test module (move the helper to tests/support)")
        elif in_support and TESTS / "support" not in found.parents:
            out.append(f"{where}: tests/support depends on a test package")
        elif TESTS / "support" not in found.parents and found.parent != own and found.parent not in own.parents:
            out.append(f"{where}: another test package's helper (move it to tests/support)")
    return out


def test_no_test_imports_another_test_module_or_a_conftest():
    files = sorted(TESTS.rglob("*.py"))
    problems = [p for f in files for p in violations(f, f.read_text(encoding="utf-8"))]
    assert problems == []
    # the scan saw the tree: the shared helpers are imported from tests/support
    support_users = [f for f in files if "tests.support." in f.read_text(encoding="utf-8")]
    assert len(files) > 100 and len(support_users) > 50


def test_the_check_finds_each_kind_of_bad_import():
    cim_test = TESTS / "cim" / "test_reads.py"
    assert violations(cim_test, "from . import conftest\n")[0].endswith("a conftest or test module (move the helper to tests/support)")
    assert violations(cim_test, "import tests.lifecycle.conftest\n") != []
    assert violations(cim_test, "import tests.vss.test_service\n") != []
    assert violations(cim_test, "from ..lifecycle import test_tables\n") != []
    assert violations(cim_test, "from tests.esxi.fabric import Fabric\n")[0].endswith("another test package's helper (move it to tests/support)")
    assert violations(TESTS / "support" / "demo.py", "from tests.esxi import fabric\n")[0].endswith("depends on a test package")
    assert violations(TESTS / "esxi" / "driver.py", "from .fabric import Fabric\n") == []
    assert violations(cim_test, "from tests.support.view import ArrayView\nimport pytest\n") == []
