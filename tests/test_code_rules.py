"""Rules of the code base read from its source: no production `assert`, stream names spelled only in `domain/`,
no package cycle (`store/` and `domain/` import nothing above them), capabilities declared instead of looked up."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from medperf_core.domain.streams import PREFIXES

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "medperf_core"
# The contract suites under medperf_core/testing are test bodies run by pytest (plugins run them against their own
# runners and recorders): their asserts are their point.
TEST_SUPPORT = CORE / "testing"


def _modules(*roots: Path) -> Iterator[tuple[Path, ast.Module]]:
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "tests" in path.relative_to(ROOT).parts or path.name.startswith("test_"):
                continue
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _production() -> Iterator[tuple[Path, ast.Module]]:
    for path, tree in _modules(CORE, ROOT / "runners", ROOT / "plugins"):
        if not path.is_relative_to(TEST_SUPPORT):
            yield path, tree


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {ast.unparse(node)[:100]}"


def test_no_production_module_asserts() -> None:
    # `python -O` drops asserts: a guard there vanishes; narrow the type or raise an error from errors.py instead.
    found = [_where(p, n) for p, tree in _production() for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    assert found == []


def test_stream_names_are_built_only_in_domain() -> None:
    found = []
    for path, tree in _modules(CORE, ROOT / "runners", ROOT / "plugins"):
        if path.is_relative_to(CORE / "domain"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str) \
                        and first.value.startswith(PREFIXES) and len(node.values) > 1:
                    found.append(_where(path, node))
    assert found == [], "use the functions of medperf_core.domain.streams"
def _imported(tree: ast.Module, package: str) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield node, ".".join([*base, node.module or ""]).rstrip(".")
            elif node.module:
                yield node, node.module


def _imports_of(folder: Path) -> Iterator[tuple[Path, ast.AST, str]]:
    for path, tree in _modules(folder):
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
        for node, name in _imported(tree, package):
            yield path, node, name


def test_store_imports_nothing_above_it() -> None:
    above = ("medperf_core.server", "medperf_core.services", "medperf_core.cli", "medperf_core.backends")
    found = [_where(p, n) for p, n, name in _imports_of(CORE / "store")
             if any(name == a or name.startswith(a + ".") for a in above)]
    assert found == []


def test_domain_imports_only_itself_and_the_errors() -> None:
    allowed = ("medperf_core.domain", "medperf_core.errors")
    found = [_where(p, n) for p, n, name in _imports_of(CORE / "domain")
             if name.startswith("medperf_core") and not any(name == a or name.startswith(a + ".") for a in allowed)]
    assert found == []


SEAMS = ("recorder", "backend", "runner")


def test_no_attribute_lookups_on_recorders_backends_or_runners() -> None:
    # Optional capabilities are declared in the seams' Protocols (or a second, runtime-checkable one), so a reader
    # and mypy see what a recorder, backend or runner offers; a getattr/hasattr hides it.
    found = []
    for path, tree in _production():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "hasattr") and node.args:
                subject = ast.unparse(node.args[0]).lower()
                if any(word in subject for word in SEAMS):
                    found.append(_where(path, node))
    assert found == []
