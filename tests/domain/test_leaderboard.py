"""Pooling and ranking (domain/leaderboard.py), checked against figures computed here with exact fractions."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medperf_core.domain import leaderboard as lb


def site(result: int, model: int, dataset: int, metrics: dict[str, object]) -> lb.SiteResult:
    return lb.SiteResult.of({"id": result, "model": model, "dataset": dataset, "results": metrics})


def test_flatten_joins_nested_keys_and_keeps_only_numbers() -> None:
    metrics = {
        "n_cases": 40, "accuracy": 0.9, "auc": None, "ok": True, "name": "x", "curve": [1, 2],
        "per_class": {"normal": {"sensitivity": 1, "specificity": 0.5}, "n_cases": 3},
    }
    assert lb.flatten(metrics) == {
        "accuracy": 0.9, "per_class.normal.sensitivity": 1.0, "per_class.normal.specificity": 0.5,
        "per_class.n_cases": 3.0,  # only the top-level n_cases is the case count
    }
    assert lb.cases_of(metrics) == 40
    for bad in (0, -1, 2.5, True, "40", None, float("nan")):
        assert lb.cases_of({"n_cases": bad}) is None, bad


def test_weighted_when_every_result_gives_n_cases_else_the_plain_mean() -> None:
    weighted = [site(1, 1, 1, {"n_cases": 30, "acc": 0.9}), site(2, 1, 2, {"n_cases": 10, "acc": 0.5})]
    pooled = lb.pool(weighted, "acc")
    assert pooled is not None
    assert pooled.method == lb.WEIGHTED and pooled.cases == 40 and pooled.sites == 2
    assert pooled.value == pytest.approx((30 * 0.9 + 10 * 0.5) / 40)  # 0.8, not the mean 0.7

    mixed = [site(1, 1, 1, {"n_cases": 30, "acc": 0.9}), site(2, 1, 2, {"acc": 0.5})]
    pooled = lb.pool(mixed, "acc")
    assert pooled is not None
    assert pooled.method == lb.MEAN and pooled.cases is None and pooled.value == pytest.approx(0.7)

    assert lb.pool(mixed, "auc") is None


def test_a_metric_missing_at_one_site_is_pooled_over_the_others() -> None:
    sites = [site(1, 1, 1, {"n_cases": 30, "acc": 0.9, "auc": 0.8}), site(2, 1, 2, {"n_cases": 10, "acc": 0.5})]
    auc = lb.pool(sites, "auc")
    assert auc is not None and auc.sites == 1 and auc.cases == 30 and auc.value == pytest.approx(0.8)


def test_ranking_by_the_primary_metric_shares_ranks_on_ties_and_puts_models_without_figures_last() -> None:
    sites = [
        site(1, 10, 1, {"acc": 0.5, "auc": 0.9}),
        site(2, 20, 1, {"acc": 0.7, "auc": 0.6}),
        site(3, 30, 1, {"acc": 0.7, "auc": 0.1}),
    ]
    table = lb.table([40, 10, 20, 30], sites)
    assert (table.primary_metric, table.primary_metric_source) == ("acc", "first metric")
    assert [(r.model, r.rank) for r in table.rows] == [(20, 1), (30, 1), (10, 3), (40, None)]
    assert table.rows[-1].sites == 0 and table.rows[-1].pooled == {}

    by_auc = lb.table([10, 20, 30], sites, "auc")
    assert (by_auc.primary_metric, by_auc.primary_metric_source) == ("auc", "benchmark setting")
    assert [r.model for r in by_auc.rows] == [10, 20, 30]

    unknown = lb.table([10, 20], sites, "dice")  # a setting no result has: nobody is ranked, nothing invented
    assert [r.rank for r in unknown.rows] == [None, None, None]  # model 30 has results: it has a row


def test_metrics_are_in_the_order_first_seen() -> None:
    sites = [site(2, 1, 2, {"b": 1, "c": 1}), site(1, 1, 1, {"a": 1, "b": 1})]
    assert lb.metric_names(sites) == ["a", "b", "c"]


def test_sites_and_cases_per_model() -> None:
    sites = [site(1, 1, 1, {"n_cases": 3, "acc": 1}), site(2, 1, 2, {"n_cases": 4, "acc": 0})]
    row = lb.table([1], sites).rows[0]
    assert (row.sites, row.cases) == (2, 7)
    row = lb.table([1], [*sites, site(3, 1, 3, {"acc": 1})]).rows[0]
    assert (row.sites, row.cases) == (3, None)  # one site does not say: no total claimed


figures = st.lists(
    st.tuples(st.integers(1, 10_000), st.fractions(0, 1, max_denominator=1000)), min_size=1, max_size=12
)


@given(figures)
def test_the_weighted_figure_equals_an_exact_computation(pairs: list[tuple[int, Fraction]]) -> None:
    sites = [site(i, 1, i, {"n_cases": n, "m": float(v)}) for i, (n, v) in enumerate(pairs, start=1)]
    exact = sum(Fraction(n) * Fraction(float(v)) for n, v in pairs) / sum(n for n, _ in pairs)
    pooled = lb.pool(sites, "m")
    assert pooled is not None and pooled.method == lb.WEIGHTED
    assert pooled.value == pytest.approx(float(exact), rel=1e-12, abs=1e-12)
    assert min(float(v) for _, v in pairs) - 1e-12 <= pooled.value <= max(float(v) for _, v in pairs) + 1e-12
