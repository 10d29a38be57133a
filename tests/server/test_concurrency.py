"""Concurrent writers get distinct ids; concurrent duplicate names give one winner and 409s, never a 500."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from _server_helpers import CONFIG, Client, make_dataset, unique


def test_parallel_creations_get_distinct_ids(clients: dict[str, Client], world: dict[str, int]) -> None:
    with ThreadPoolExecutor(16) as pool:
        ids = list(
            pool.map(lambda _: make_dataset(clients["do"], world["prep"], operational=False)["id"], range(40))
        )
    assert len(set(ids)) == 40


def test_parallel_duplicate_names_one_wins(clients: dict[str, Client]) -> None:
    name = unique("race")
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(
                lambda _: (
                    clients["mo"].post("/mlcubes/", {"name": name, "container_config": CONFIG}).status_code
                ),
                range(8),
            )
        )
    assert sorted(codes) == [201] + [409] * 7
