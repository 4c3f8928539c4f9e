"""The house rules of docs/architecture.md, checked: file sizes, no import cycles, pure modules
that stay pure, and the permission page in step with the permission table."""

import ast
import tomllib
from pathlib import Path

from renxing.auth import permissions_doc
from renxing.auth.policy import ROLE_PERMS, WHO_MAY, Perm, Role

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "renxing"
MAX_LINES = 800
EXEMPT = ("demo", "migrations")  # the demo generator and migrations are written once
IMPURE = ("sqlalchemy", "fastapi", "starlette", "jinja2", "alembic", "renxing.db", "renxing.web")


def _sources() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if not set(p.relative_to(SRC).parts) & set(EXEMPT))


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported when the module loads (not inside functions or TYPE_CHECKING blocks)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def test_no_source_file_over_the_limit():
    long = {str(p.relative_to(ROOT)): n for p in _sources() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these by use case (limit {MAX_LINES} lines): {long}"


def test_no_import_cycles():
    modules = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {
        name: {i if i in modules else i.rpartition(".")[0] for i in _top_level_imports(path) if i.startswith("renxing")}
        & set(modules)
        for name, path in modules.items()
    }
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node] - {node}):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_pure_modules_import_no_database_or_web():
    pure = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    assert pure, "the pure modules are listed for mypy in pyproject.toml"
    offenders = {}
    for rel in pure:
        bad = sorted(i for i in _top_level_imports(ROOT / rel) if i.startswith(IMPURE) or ".models" in i)
        if bad:
            offenders[rel] = bad
    assert offenders == {}


def test_permission_table_covers_every_permission_and_role():
    assert set(WHO_MAY) == set(Perm)
    for perm, roles in WHO_MAY.items():
        assert roles, f"{perm} is granted to nobody"
        for role in Role:
            assert (perm in ROLE_PERMS[role]) == (role in roles)


def test_permission_page_is_generated_from_the_table():
    page = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert page == permissions_doc.render(), "run `renxing permissions` and commit docs/permissions.md"
