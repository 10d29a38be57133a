"""A benchmark's results pooled across sites: metrics flattened, one figure per model and metric, models ranked.

Pure functions over the results a caller may see; the server's leaderboard service gathers those results (through
the services, so the API's visibility rules apply) and the page and `GET /benchmarks/ID/leaderboard/` show this.

- A result's metrics are flattened: nested keys joined with "." (`per_class.normal.sensitivity`); only numbers
  (not booleans, not null) are figures.
- `n_cases` (top level) is the number of cases behind a result, not a metric.
- The pooled figure of a model and metric is the mean of its sites' figures weighted by `n_cases` when every one
  of those results gives a positive `n_cases`, else the plain mean; each pooled figure says which.
- Models are ranked by the primary metric (the benchmark's `primary_metric`, else the first metric seen), higher
  first; equal figures share a rank (1, 1, 3); models without a figure are unranked, after the ranked ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

CASES_KEY = "n_cases"
WEIGHTED = "weighted by n_cases"
MEAN = "mean"


def flatten(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric figures of a result, nested keys joined with "."; `n_cases` at the top level is left out."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if not prefix and key == CASES_KEY:
            continue
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            flat[name] = float(value)
    return flat


def cases_of(metrics: Mapping[str, Any]) -> int | None:
    """The result's positive whole `n_cases`, or None."""
    value = metrics.get(CASES_KEY)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value <= 0 or value != int(value):
        return None
    return int(value)


@attrs.frozen(kw_only=True)
class SiteResult:
    """One submitted result: a model's figures on one dataset."""

    result: int
    model: int
    dataset: int
    n_cases: int | None
    metrics: dict[str, float]

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> SiteResult:
        """From a result as the API shows it."""
        raw = row.get("results") or {}
        return cls(
            result=int(row["id"]), model=int(row["model"]), dataset=int(row["dataset"]),
            n_cases=cases_of(raw), metrics=flatten(raw),
        )


@attrs.frozen(kw_only=True)
class Pooled:
    value: float
    method: str  # WEIGHTED or MEAN
    sites: int
    cases: int | None  # the n_cases behind a weighted figure


def pool(sites: Sequence[SiteResult], metric: str) -> Pooled | None:
    """The pooled figure of one metric over the given results (one model's), or None when none has it."""
    having = [s for s in sites if metric in s.metrics]
    if not having:
        return None
    weights = [s.n_cases for s in having]
    if all(w is not None for w in weights):
        total = sum(w for w in weights if w is not None)
        value = sum(s.metrics[metric] * (s.n_cases or 0) for s in having) / total
        return Pooled(value=value, method=WEIGHTED, sites=len(having), cases=total)
    mean = sum(s.metrics[metric] for s in having) / len(having)
    return Pooled(value=mean, method=MEAN, sites=len(having), cases=None)


def metric_names(sites: Iterable[SiteResult]) -> list[str]:
    """Every metric seen, in the order first seen (results in id order, keys in the metrics container's order)."""
    seen: dict[str, None] = {}
    for site in sorted(sites, key=lambda s: s.result):
        for name in site.metrics:
            seen.setdefault(name, None)
    return list(seen)


@attrs.frozen(kw_only=True)
class ModelRow:
    model: int
    rank: int | None
    sites: int  # datasets with a result of this model
    cases: int | None  # their n_cases summed, when every one gives it
    pooled: dict[str, Pooled]


@attrs.frozen(kw_only=True)
class Table:
    metrics: list[str]
    primary_metric: str | None
    primary_metric_source: str  # "benchmark setting", "first metric" or "none"
    rows: list[ModelRow]  # in rank order


def primary(setting: str, metrics: Sequence[str]) -> tuple[str | None, str]:
    """The metric models are ranked by, and where it comes from."""
    if setting:
        return setting, "benchmark setting"
    if metrics:
        return metrics[0], "first metric"
    return None, "none"


def rank(values: Mapping[int, float | None]) -> dict[int, int | None]:
    """Competition ranking, higher first; None for models without a figure."""
    ranks: dict[int, int | None] = {}
    for model, value in values.items():
        ranks[model] = None if value is None else 1 + sum(1 for v in values.values() if v is not None and v > value)
    return ranks


def table(models: Sequence[int], sites: Sequence[SiteResult], setting: str = "") -> Table:
    """The pooled table of the given models (every model gets a row, with or without results)."""
    metrics = metric_names(sites)
    chosen, source = primary(setting, metrics)
    by_model: dict[int, list[SiteResult]] = {m: [] for m in models}
    for site in sites:
        by_model.setdefault(site.model, []).append(site)
    pooled = {
        m: {k: p for k in metrics if (p := pool(found, k)) is not None} for m, found in by_model.items()
    }
    ranks = rank({m: (p[chosen].value if chosen in p else None) for m, p in pooled.items()})
    rows = []
    for m, found in by_model.items():
        cases = [s.n_cases for s in found]
        rows.append(ModelRow(
            model=m,
            rank=ranks[m],
            sites=len({s.dataset for s in found}),
            cases=sum(c for c in cases if c is not None) if cases and None not in cases else None,
            pooled=pooled[m],
        ))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.model))
    return Table(metrics=metrics, primary_metric=chosen, primary_metric_source=source, rows=rows)
