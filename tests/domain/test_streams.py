"""Stream names are part of the stored log: each is spelled once, and stays as it was."""

from __future__ import annotations

from medperf_core.domain import associations, streams


def test_stream_names_are_stable() -> None:
    assert [streams.dataset(3), streams.benchmark(1), streams.container(2), streams.user(4), streams.result(5),
            streams.execution("b1m2d3"), streams.request("k"), streams.compatibility_test("u")] == [
        "dataset-3", "benchmark-1", "container-2", "user-4", "result-5", "execution-b1m2d3", "request-k",
        "test-run-u"]
    assert streams.idempotency(7, "key") == streams.idempotency(7, "key") != streams.idempotency(8, "key")
    assert streams.idempotency(7, "key").startswith("idempotency-7-")


def test_an_association_stream_starts_with_its_entitys_prefix() -> None:
    name = associations.stream_name("dataset", 1, 5)
    assert name == streams.association("dataset", 1, 5) == "association-dataset-5-benchmark-1"
    assert name.startswith(streams.association_prefix("dataset", 5))
    assert not streams.association("dataset", 1, 55).startswith(streams.association_prefix("dataset", 5))
    assert all(n.startswith(streams.PREFIXES) for n in (name, streams.dataset(1), streams.compatibility_test("u")))
