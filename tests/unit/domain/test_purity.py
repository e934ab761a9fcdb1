"""The domain is pure: stdlib (no I/O, no clock, no randomness) and msgspec only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ironstar.domain

DOMAIN = Path(ironstar.domain.__file__).parent
ALLOWED = {
    "__future__",
    "collections",
    "collections.abc",
    "dataclasses",
    "enum",
    "functools",
    "itertools",
    "math",
    "re",
    "types",
    "typing",
    "msgspec",
    "msgspec.json",
    "msgspec.structs",
}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: use absolute imports"
            found.add(node.module or "")
    return found


def test_every_domain_module_imports_only_the_stdlib_core_msgspec_and_the_domain() -> None:
    modules = sorted(DOMAIN.glob("*.py"))
    assert len(modules) >= 10
    for path in modules:
        for name in imports_of(path):
            ok = name in ALLOWED or name == "ironstar.domain" or name.startswith("ironstar.domain.")
            assert ok, f"{path.name} imports {name}"


def test_the_checker_would_notice_an_io_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import time\nfrom ironstar.eventstore import codec\n")
    assert imports_of(bad) - ALLOWED == {"time", "ironstar.eventstore"}


def test_importing_the_whole_domain_loads_no_other_ironstar_package_or_io_module() -> None:
    # uuid is not in this list because msgspec itself imports it; the AST test above
    # keeps it (and the clock) out of domain modules.
    script = (
        "import sys; import ironstar.domain.catalogue; "
        "print(' '.join(m for m in sys.modules if m.startswith('ironstar.') "
        "and not m.startswith('ironstar.domain') "
        "or m in ('sqlite3', 'socket', 'asyncio', 'subprocess', 'random', 'duckdb')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""
