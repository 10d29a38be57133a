"""Our rest backend reads MedPerf's server's answers where they differ from ours (the stand-in serves them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _medperf_standin import PAGE, StandIn

from medperf_core.backends.rest import RestBackend
from medperf_core.errors import NotFoundError
from medperf_core.profiles import Profile
from medperf_core.testing.tls import self_signed


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[tuple[StandIn, RestBackend]]:
    server = StandIn()
    server.me = {"id": 4, "username": "auth0|do", "email": "do@example.org", "first_name": "", "last_name": ""}
    cert, key = self_signed(tmp_path / "tls")
    server.start(cert, key)
    yield server, RestBackend(Profile(name="medperf", server=server.url, certificate=str(cert), token="t"))
    server.stop()


def test_an_association_is_the_latest_of_medperfs_list(standin: tuple[StandIn, RestBackend]) -> None:
    server, backend = standin
    with pytest.raises(NotFoundError, match="no association of dataset 7 with benchmark 1"):
        backend.get_dataset_association(7, 1)
    server.add("dataset_association", dataset=7, benchmark=1, approval_status="REJECTED", initiated_by=4)
    server.add("dataset_association", dataset=7, benchmark=1, approval_status="APPROVED", initiated_by=4)
    row = backend.get_dataset_association(7, 1)
    assert (row["dataset"], row["benchmark"], row["approval_status"]) == (7, 1, "APPROVED")


def test_lists_are_read_whole_paged_or_not(standin: tuple[StandIn, RestBackend]) -> None:
    server, backend = standin
    for i in range(PAGE * 4 + 3):  # more than our page size of 100: `next` is followed
        server.add("result", name=f"b1m{i}d1", owner=4, benchmark=1, model=i, dataset=1, results={"acc": 1})
    paged = backend.list_my_results()
    assert [r["model"] for r in paged] == list(range(PAGE * 4 + 3))
    server.unpaged.add("/me/results/")
    assert backend.list_my_results() == paged
