"""Our own lint rules (STYLE.md, habit 12), checked on the source text."""

from __future__ import annotations

import ast
from pathlib import Path

HUB = Path(__file__).resolve().parent.parent / "hub"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _sources() -> list[Path]:
    return sorted(HUB.rglob("*.py"))


def test_resolvers_do_not_import_sqlalchemy() -> None:
    offenders = [
        str(p.relative_to(HUB))
        for p in HUB.rglob("graphql.py")
        if any(name.split(".")[0] == "sqlalchemy" for name in _imports(p))
    ]
    assert offenders == []


def test_only_authz_imports_casbin() -> None:
    offenders = [
        str(p.relative_to(HUB))
        for p in _sources()
        if "authz" not in p.relative_to(HUB).parts
        and any(name.split(".")[0] == "casbin" for name in _imports(p))
    ]
    assert offenders == []


def test_only_the_ledger_repository_writes_the_ledger() -> None:
    allowed = {HUB / "ledger" / "repository.py", HUB / "ledger" / "models.py"}
    offenders = [
        str(p.relative_to(HUB))
        for p in _sources()
        if p not in allowed
        and "ConsentLogEntry" in p.read_text()
        and any(
            w in p.read_text()
            for w in ("insert(ConsentLogEntry", "ConsentLogEntry(", "consent_log ")
        )
    ]
    assert offenders == []


def test_only_config_reads_the_environment() -> None:
    offenders = [
        str(p.relative_to(HUB))
        for p in _sources()
        if p.name != "config.py" and ("os.environ" in p.read_text() or "os.getenv" in p.read_text())
    ]
    assert offenders == []


def test_only_graphql_files_import_strawberry() -> None:
    allowed_dirs = {"graphql"}
    offenders = [
        str(p.relative_to(HUB))
        for p in _sources()
        if p.name != "graphql.py"
        and not allowed_dirs & set(p.relative_to(HUB).parts)
        and any(name.split(".")[0] == "strawberry" for name in _imports(p))
    ]
    assert offenders == []
