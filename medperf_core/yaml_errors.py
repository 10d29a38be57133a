"""A YAML parse error in one line that says where: `line 4, column 3: mapping values are not allowed here`."""

from __future__ import annotations

import yaml


def yaml_problem(error: yaml.YAMLError | UnicodeDecodeError) -> str:
    """What is wrong and where (1-based line and column), without PyYAML's multi-line excerpt of the text."""
    if isinstance(error, UnicodeDecodeError):
        return f"byte {error.start} is not UTF-8 text"
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or getattr(error, "context", None)
    if problem is None:
        problem = str(error).splitlines()[0] if str(error) else type(error).__name__
    context = getattr(error, "context", None)
    if context and context != problem:
        problem = f"{problem} ({context})"
    if mark is None:
        return str(problem)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
