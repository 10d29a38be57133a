"""A benchmark's submitted results as its owner reads them: per model × dataset, and ranked per metric.

Each figure of a ranking is one model's metric over every dataset that submitted a result for it: the mean
weighted by each dataset's number of cases (`n_cases` in the metrics; 1 when a result has none), with the number
of sites (datasets) and cases behind it. Higher ranks first.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import attrs

CASES = "n_cases"


def flatten(metrics: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a metrics mapping under dotted names (`per_class.normal.sensitivity`)."""
    out: dict[str, float] = {}
    if isinstance(metrics, dict):
        for key, value in metrics.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(metrics, int | float) and not isinstance(metrics, bool):
        out[prefix.rstrip(".")] = float(metrics)
    return out


@attrs.frozen
class Standing:
    rank: int
    model: int
    value: float
    sites: int
    cases: int


def per_pair(results: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Metric names and one row per result: model, dataset, then each metric (blank when missing)."""
    flat = [(r, flatten(r.get("results") or {})) for r in results]
    names = sorted({k for _r, f in flat for k in f})
    rows = [[r["model"], r["dataset"], *[_fmt(f.get(n)) for n in names]]
            for r, f in sorted(flat, key=lambda x: (x[0]["model"], x[0]["dataset"]))]
    return names, rows


def rankings(results: list[dict[str, Any]]) -> dict[str, list[Standing]]:
    """metric → the models ranked by their case-weighted mean over the datasets."""
    sums: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    for row in results:
        flat = flatten(row.get("results") or {})
        cases = flat.get(CASES, 1.0) or 1.0
        for name, value in flat.items():
            if name == CASES:
                continue
            acc = sums[name][int(row["model"])]
            acc[0] += value * cases
            acc[1] += cases
            acc[2] += 1
    ranked: dict[str, list[Standing]] = {}
    for name in sorted(sums):
        scored = sorted(((acc[0] / acc[1], model, int(acc[2]), int(acc[1])) for model, acc in sums[name].items()),
                        key=lambda x: (-x[0], x[1]))
        ranked[name] = [Standing(i, model, value, sites, cases)
                        for i, (value, model, sites, cases) in enumerate(scored, start=1)]
    return ranked


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else f"{value:.4f}"


def fmt(value: float) -> str:
    return _fmt(value)
