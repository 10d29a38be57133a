"""What MedPerf's client (the version of the seed tutorial) accepts when it reads an entity, written as checks.

Facts read from its pydantic entity models (`cli/medperf/entities/*.py`, `schemas.py`), not its code:
- before validation every field's `""` becomes None;
- `name` is required and at most 20 characters; a benchmark's or dataset's `description` and a dataset's
  `location` at most 20; `id`/`owner` optional integers; `created_at`/`modified_at`/`approved_at` optional
  ISO datetimes; `approval_status` one of PENDING/APPROVED/REJECTED (None means PENDING);
- a benchmark needs `demo_dataset_tarball_url` and its three container ids; `docs_url` is an optional http(s) URL
  whose host is an IP address or has a top-level domain (pydantic's HttpUrl);
- a container needs `git_mlcube_url`; its other URLs and hashes are optional strings; `image_hash` is compared
  with the bare 64-hex image id;
- a dataset needs `input_data_hash`, `generated_uid`, `data_preparation_mlcube` and `generated_metadata` (alias
  `metadata`);
- a result needs `benchmark`, `model`, `dataset` and `results`.
Unknown fields are allowed (its models keep extra fields), so only these are checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

MEDPERF_TEXT = 20
APPROVALS = ("PENDING", "APPROVED", "REJECTED")
_BARE_HEX = re.compile(r"^[0-9a-f]{64}$")

Row = dict[str, Any]


class Problems:
    """Collects every refusal of one entity, each naming the field, as MedPerf's client would list them."""

    def __init__(self, kind: str, row: Row) -> None:
        self.kind = kind
        self.row = row
        self.found: list[str] = []

    def value(self, name: str) -> Any:
        value = self.row.get(name)
        return None if value == "" else value  # MedPerf's `empty_str_to_none`

    def add(self, name: str, why: str) -> None:
        self.found.append(f"{self.kind}.{name}: {why} (got {self.row.get(name)!r})")

    def required(self, name: str, check: Callable[[Any], bool], what: str) -> None:
        value = self.value(name)
        if value is None:
            self.add(name, "field required")
        elif not check(value):
            self.add(name, f"must be {what}")

    def optional(self, name: str, check: Callable[[Any], bool], what: str) -> None:
        value = self.value(name)
        if value is not None and not check(value):
            self.add(name, f"must be {what}")


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _dict(v: Any) -> bool:
    return isinstance(v, dict)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _datetime(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _short(v: Any) -> bool:
    return isinstance(v, str) and len(v) <= MEDPERF_TEXT


def _http_url(v: Any) -> bool:
    """pydantic's HttpUrl (v1): http(s), and a host that is an IP address or has a top-level domain."""
    if not isinstance(v, str) or len(v) > 2083:
        return False
    found = re.match(r"^https?://([^/:?#\s]+|\[[^\]]+\])(:\d+)?([/?#]\S*)?$", v)
    if found is None:
        return False
    host = found[1]
    is_ip = host.startswith("[") or re.fullmatch(r"[\d.]+", host) is not None
    return is_ip or re.search(r"\.[A-Za-z]{2,}$", host) is not None


def _common(p: Problems) -> None:
    p.optional("id", _int, "an integer")
    p.required("name", _short, f"a string of at most {MEDPERF_TEXT} characters")
    p.optional("owner", _int, "an integer")
    for name in ("created_at", "modified_at"):
        p.optional(name, _datetime, "an ISO datetime")


def _deployable(p: Problems) -> None:
    p.optional("state", _str, "a string")
    p.optional("is_valid", _bool, "a boolean")


def _approvable(p: Problems) -> None:
    p.optional("approved_at", _datetime, "an ISO datetime")
    p.optional("approval_status", lambda v: v in APPROVALS, f"one of {', '.join(APPROVALS)}")


def _metadata(p: Problems, *names: str) -> None:
    for name in names:
        p.optional(name, _dict, "a JSON object")


def benchmark(row: Row) -> list[str]:
    p = Problems("benchmark", row)
    _common(p)
    _deployable(p)
    _approvable(p)
    p.optional("description", _short, f"at most {MEDPERF_TEXT} characters")
    p.optional("docs_url", _http_url, "an http(s) URL")
    p.required("demo_dataset_tarball_url", _str, "a string")
    p.optional("demo_dataset_tarball_hash", _str, "a string")
    p.optional("demo_dataset_generated_uid", _str, "a string")
    for name in ("data_preparation_mlcube", "reference_model_mlcube", "data_evaluator_mlcube"):
        p.required(name, _int, "an integer")
    _metadata(p, "metadata", "user_metadata")
    p.optional("is_active", _bool, "a boolean")
    return p.found


def container(row: Row) -> list[str]:
    p = Problems("mlcube", row)
    _common(p)
    _deployable(p)
    p.required("git_mlcube_url", _str, "a string")
    for name in (
        "mlcube_hash", "git_parameters_url", "parameters_hash", "image_tarball_url", "image_tarball_hash",
        "additional_files_tarball_url", "additional_files_tarball_hash",
    ):
        p.optional(name, _str, "a string")
    p.optional("image_hash", lambda v: isinstance(v, str) and bool(_BARE_HEX.match(v)), "the bare 64-hex image id")
    _metadata(p, "metadata", "user_metadata")
    return p.found


def dataset(row: Row) -> list[str]:
    p = Problems("dataset", row)
    _common(p)
    _deployable(p)
    p.optional("description", _short, f"at most {MEDPERF_TEXT} characters")
    p.optional("location", _short, f"at most {MEDPERF_TEXT} characters")
    p.required("input_data_hash", _str, "a string")
    p.required("generated_uid", _str, "a string")
    p.required("data_preparation_mlcube", lambda v: _int(v) or _str(v), "an integer")
    p.optional("split_seed", _int, "an integer")
    if p.value("generated_metadata") is None and p.value("metadata") is None:
        p.add("generated_metadata", "field required")
    _metadata(p, "generated_metadata", "user_metadata", "report")
    p.optional("submitted_as_prepared", _bool, "a boolean")
    return p.found


def result(row: Row) -> list[str]:
    p = Problems("result", row)
    _common(p)
    _approvable(p)
    for name in ("benchmark", "model", "dataset"):
        p.required(name, _int, "an integer")
    p.required("results", _dict, "a JSON object")
    _metadata(p, "metadata", "user_metadata")
    return p.found


def user(row: Row) -> list[str]:
    p = Problems("user", row)
    p.required("id", _int, "an integer")
    for name in ("username", "email"):
        p.required(name, _str, "a string")
    for name in ("first_name", "last_name"):
        if name not in row or not _str(row[name]):
            p.add(name, "must be a string")
    return p.found


def association(row: Row, subject: str) -> list[str]:
    """A row of a benchmark's model or dataset associations (`subject`: `model_mlcube` or `dataset`)."""
    p = Problems("association", row)
    p.required(subject, _int, "an integer")
    p.required("benchmark", _int, "an integer")
    p.required("approval_status", lambda v: v in APPROVALS, f"one of {', '.join(APPROVALS)}")
    p.required("created_at", _datetime, "an ISO datetime")
    _approvable(p)
    _metadata(p, "metadata")
    return p.found


def page(body: Any) -> list[str]:
    """A list answer: `{"count", "next", "previous", "results": [...]}`."""
    if not isinstance(body, dict):
        return [f"page: must be a JSON object, got {type(body).__name__}"]
    found = [f"page.{k}: missing" for k in ("count", "next", "previous", "results") if k not in body]
    if "results" in body and not isinstance(body["results"], list):
        found.append("page.results: must be a list")
    return found
