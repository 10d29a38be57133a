"""What the server holds, as the CLI lists and shows it: benchmarks, containers, datasets (with local state)."""

from __future__ import annotations

from typing import Any

from medperf_core.services.client import Client

Row = dict[str, Any]


def benchmarks(client: Client, *, mine: bool = False) -> list[Row]:
    return client.backend.list_my_benchmarks() if mine else client.backend.list_benchmarks()


def benchmark(client: Client, benchmark_id: int) -> Row:
    return client.backend.get_benchmark(benchmark_id)


def containers(client: Client, *, mine: bool = False) -> list[Row]:
    return client.backend.list_my_containers() if mine else client.backend.list_containers()


def container(client: Client, container_id: int) -> Row:
    return client.backend.get_container(container_id)


def datasets(
    client: Client, *, mine: bool = False, unregistered: bool = False, preparation: int | None = None
) -> list[Row]:
    """Datasets the server shows, each with `local_state` (its state on this machine, or "-").

    `unregistered`: only datasets known on this machine and not (or no longer) on the server.
    """
    local = {int(r["dataset_id"]): r for r in client.local.datasets()}
    if unregistered:
        server_ids = {int(r["id"]) for r in client.backend.list_my_datasets()}
        rows = [
            {"id": i, "name": r["name"], "data_preparation_mlcube": r["data_preparation_mlcube"], "state": "-"}
            for i, r in local.items()
            if i not in server_ids
        ]
    else:
        rows = client.backend.list_my_datasets() if mine else client.backend.list_datasets()
    if preparation is not None:
        rows = [r for r in rows if r.get("data_preparation_mlcube") == preparation]
    return [{**r, "local_state": local.get(int(r["id"]), {}).get("state", "-")} for r in rows]


def dataset(client: Client, dataset_id: int) -> Row:
    return client.backend.get_dataset(dataset_id)


def my_datasets(client: Client) -> list[Row]:
    return client.backend.list_my_datasets()


def my_model_associations(client: Client) -> list[Row]:
    return client.backend.list_my_model_associations()


def decide_model_association(client: Client, benchmark_id: int, model_id: int, status: str) -> Row:
    from medperf_core.services.decisions import decide_association

    return decide_association(client, "model", benchmark_id, model_id, status)
