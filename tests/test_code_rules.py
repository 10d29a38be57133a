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
