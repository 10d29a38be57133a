"""What the benchmark page shows, from a Leaderboard: the rows in the asked order, cells formatted, the chart.

Sorting only reorders the leaderboard's rows; every figure is the leaderboard's (the same as the API's)."""

from __future__ import annotations

from typing import Any

import attrs

from medperf_core.domain import leaderboard as lb
from medperf_core.server.services.leaderboard import Leaderboard
from medperf_core.server.ui import chart

FIXED_COLUMNS = ("rank", "model", "sites", "cases")


@attrs.frozen(kw_only=True)
class Sort:
    column: str
    descending: bool

    @classmethod
    def parse(cls, column: str | None, direction: str | None, metrics: list[str]) -> Sort:
        """The asked order when it names a column; else by rank. Metrics sort high first unless asked otherwise."""
        if column is None or column not in (*FIXED_COLUMNS, *metrics):
            column = "rank"
        if direction in ("asc", "desc"):
            return cls(column=column, descending=direction == "desc")
        return cls(column=column, descending=column in metrics or column in ("sites", "cases"))

    def link(self, column: str) -> str:
        """The query string that sorts by `column` (flipping the direction when it is the current one)."""
        if column == self.column:
            direction = "asc" if self.descending else "desc"
        else:
            direction = "asc" if column in ("rank", "model") else "desc"
        return f"?sort={column}&dir={direction}"


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _key(row: lb.ModelRow, column: str, names: dict[int, str]) -> Any:
    if column == "rank":
        return row.rank
    if column == "model":
        return names.get(row.model, str(row.model)).lower()
    if column == "sites":
        return row.sites
    if column == "cases":
        return row.cases
    pooled = row.pooled.get(column)
    return None if pooled is None else pooled.value


def sorted_rows(board: Leaderboard, sort: Sort) -> list[lb.ModelRow]:
    """Rows in the asked order; rows without a value last whatever the direction, ties by rank then model id."""
    rows = sorted(board.table.rows, key=lambda r: (r.rank is None, r.rank or 0, r.model))
    having = [r for r in rows if _key(r, sort.column, board.model_names) is not None]
    missing = [r for r in rows if _key(r, sort.column, board.model_names) is None]
    having.sort(key=lambda r: _key(r, sort.column, board.model_names), reverse=sort.descending)
    return having + missing


def model_label(board: Leaderboard, model: int) -> str:
    name = board.model_names.get(model)
    return f"{name} ({model})" if name else f"model {model}"


def dataset_label(board: Leaderboard, dataset: int) -> str:
    name = board.dataset_names.get(dataset)
    return f"{name} ({dataset})" if name else f"dataset {dataset}"


def chart_svg(board: Leaderboard) -> str:
    metric = board.table.primary_metric
    if metric is None:
        return ""
    rows = []
    for row in board.table.rows:
        points = [(dataset_label(board, s.dataset), s.metrics[metric])
                  for s in board.sites if s.model == row.model and metric in s.metrics]
        pooled = row.pooled.get(metric)
        if points:
            rows.append(chart.ChartRow(label=model_label(board, row.model), points=points,
                                       pooled=None if pooled is None else pooled.value))
    return chart.render(metric, rows)


def matrix(board: Leaderboard) -> tuple[list[int], list[tuple[int, list[str]]]]:
    """The primary metric per model (rows, rank order) and dataset (columns): formatted figures, "—" when none."""
    metric = board.table.primary_metric
    datasets = sorted({s.dataset for s in board.sites})
    cells = {(s.model, s.dataset): s.metrics.get(metric or "") for s in board.sites}
    models = [r.model for r in board.table.rows if any(s.model == r.model for s in board.sites)]
    return datasets, [(m, [fmt(cells.get((m, d))) for d in datasets]) for m in models]
