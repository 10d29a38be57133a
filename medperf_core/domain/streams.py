"""Every event stream's name: the one place that spells them (the log, exports and locks all use these names)."""

from __future__ import annotations

import hashlib

# The first word of every stream name made here; a name built by hand elsewhere from one of these is a bug (a test
# looks for f-strings starting with them outside `domain/`).
PREFIXES = (
    "association-", "benchmark-", "container-", "dataset-", "execution-", "idempotency-", "request-", "result-",
    "test-run-", "user-",
)


def dataset(dataset_id: int | str) -> str:
    """A dataset's stream (and its command lock's name; `storage cleanup` names it by its folder's name)."""
    return f"dataset-{dataset_id}"


def benchmark(benchmark_id: int) -> str:
    return f"benchmark-{benchmark_id}"


def container(container_id: int) -> str:
    return f"container-{container_id}"


def user(user_id: int) -> str:
    return f"user-{user_id}"


def result(result_id: int) -> str:
    """A result as the server holds it (by its server id)."""
    return f"result-{result_id}"


def execution(uid: str) -> str:
    """A local execution on a client (by its result uid, `b{benchmark}m{model}d{dataset}`)."""
    return f"execution-{uid}"


def association(kind: str, benchmark_id: int, entity: int) -> str:
    """The association of a dataset or model (`kind`) with a benchmark."""
    return f"{association_prefix(kind, entity)}{benchmark_id}"


def association_prefix(kind: str, entity: int) -> str:
    """What the names of one dataset's (or model's) associations, with any benchmark, start with."""
    return f"association-{kind}-{entity}-benchmark-"


def request(key: str) -> str:
    """A client's write to the server, recorded before it is sent (the outbox)."""
    return f"request-{key}"


def compatibility_test(uid: str) -> str:
    """A local compatibility test run."""
    return f"test-run-{uid}"


def idempotency(user_id: int, key: str) -> str:
    """A server's record of one idempotency key of one user (the key hashed: it is the client's free text)."""
    return f"idempotency-{user_id}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def site_policy() -> str:
    """The site's policy on this machine: its changes and the containers it refused (one stream per client log)."""
    return "site-policy"
