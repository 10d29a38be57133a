"""Each server entity defined once: its fields, types, defaults and rules of writing.

The HTTP request models (`server/models.py`), the validation the `local` backend applies (`server/services/fields.py`),
the read model's tables (`store/sql/server_tables.py`) and the wire shape of every response are derived from these
classes; `tests/domain/test_resources.py` fails when any of them disagree.

A field's metadata says how it may be written:
- `writable`: a client may send it (read-only fields such as `id`, `owner` and the times are ignored when sent);
- `required`: it must be given when the entity is created;
- `frozen`: it can no longer change once the entity is operational;
- `unique`: no two entities share its value;
- `choices`: the values it may take;
- `wire`: it is part of the API's answer (a user's `created_at` is not);
- `max_length`: the longest value a client may send, in characters of text (a JSON field: of its JSON text). Without
  it, text holds at most `TEXT_LIMIT` characters and a JSON field `JSON_LIMIT` (see `FieldSpec.size_limit`).
  MedPerf's client refuses a whole answer holding a name (of any entity), description or location over 20 characters
  (`MEDPERF_TEXT`), so those fields say so and registration refuses longer ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

JsonObject = dict[str, Any]
STATES = ("DEVELOPMENT", "OPERATION")
MEDPERF_TEXT = 20  # MedPerf's client: longest name, description, location it accepts
APPROVALS = ("PENDING", "APPROVED", "REJECTED")
TEXT_LIMIT = 1_000  # characters of a text field without a max_length of its own (names, URLs, hashes, descriptions)
JSON_LIMIT = 256 * 1024  # characters of a JSON field's compact JSON text (metadata, configs, statistics, metrics)
AUTO_APPROVAL_MODES = ("NEVER", "ALWAYS", "ALLOWLIST")


def field(
    default: Any = None,
    *,
    writable: bool = True,
    required: bool = False,
    frozen: bool = False,
    unique: bool = False,
    indexed: bool = False,
    choices: tuple[str, ...] = (),
    wire: bool = True,
    max_length: int | None = None,
) -> Any:
    meta = {
        "writable": writable,
        "required": required,
        "frozen": frozen,
        "unique": unique,
        "indexed": indexed,
        "choices": choices,
        "wire": wire,
        "max_length": max_length,
    }
    if isinstance(default, dict):
        return attrs.field(factory=dict, metadata=meta)
    if isinstance(default, list):
        return attrs.field(factory=list, metadata=meta)
    return attrs.field(default=default, metadata=meta)


def read_only(default: Any = None, **kw: Any) -> Any:
    return field(default, writable=False, **kw)


@attrs.frozen
class FieldSpec:
    """One field of a resource, as the derived pieces see it."""

    name: str
    kind: type  # int, str, bool, dict (a JSON object) or list (a JSON list of strings)
    nullable: bool
    default: Any
    writable: bool
    required: bool
    frozen: bool
    unique: bool
    indexed: bool
    choices: tuple[str, ...]
    wire: bool
    max_length: int | None

    def size_limit(self) -> int | None:
        """The longest value a client may send: characters of text, or of a JSON field's compact JSON text."""
        if self.kind is str:
            return self.max_length or TEXT_LIMIT
        if self.kind in (dict, list):
            return self.max_length or JSON_LIMIT
        return None


@attrs.frozen(eq=False)  # compared and hashed by identity: each resource exists once
class Resource:
    """A registered entity class with the table that holds it in the read model."""

    name: str
    table: str
    cls: type
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def wire_names(self) -> list[str]:
        return [f.name for f in self.fields if f.wire]

    def writable(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.writable]

    def frozen(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.frozen)

    def defaults(self) -> dict[str, Any]:
        """A new row: every field at its default (fresh dicts for JSON fields)."""
        return {f.name: (type(f.default)(f.default) if isinstance(f.default, dict | list) else f.default)
                for f in self.fields}


RESOURCES: dict[str, Resource] = {}  # the entities, each kept in a table of the read model
COMMANDS: dict[str, Resource] = {}  # request bodies that are not entities (no table)
_KINDS = {"int": int, "str": str, "bool": bool, "JsonObject": dict, "dict[str, Any]": dict, "list[str]": list}


def _spec(a: attrs.Attribute) -> FieldSpec:  # type: ignore[type-arg]
    text = str(a.type).replace(" ", "")
    nullable = text.endswith("|None")
    base = text.removesuffix("|None")
    factory = getattr(a.default, "factory", None)  # attrs.Factory: a fresh value per use
    default = factory() if callable(factory) else a.default
    return FieldSpec(name=a.name, kind=_KINDS[base], nullable=nullable, default=default, **a.metadata)


def resource(name: str, table: str | None) -> Any:
    def register(cls: type) -> type:
        described = Resource(name, table or "", cls, tuple(_spec(a) for a in attrs.fields(cls)))
        (RESOURCES if table else COMMANDS)[name] = described
        return cls

    return register


def all_resources() -> Iterator[Resource]:
    return iter(RESOURCES.values())


# --- the entities -------------------------------------------------------------------------------------------


@resource("user", "users")
@attrs.frozen(kw_only=True)
class User:
    id: int = read_only(0)
    username: str = read_only("")
    email: str = read_only("", unique=True)
    first_name: str = read_only("")
    last_name: str = read_only("")
    is_staff: bool = read_only(False)
    created_at: str | None = read_only(wire=False)


@resource("container", "containers")
@attrs.frozen(kw_only=True)
class Container:
    id: int = read_only(0)
    name: str = field("", required=True, unique=True, max_length=MEDPERF_TEXT)
    git_mlcube_url: str = field("", frozen=True)
    mlcube_hash: str = field("", frozen=True)
    git_parameters_url: str = field("", frozen=True)
    parameters_hash: str = field("", frozen=True)
    image_tarball_url: str = field("", frozen=True)
    image_tarball_hash: str = field("", frozen=True)
    image_hash: str = field("", frozen=True)
    additional_files_tarball_url: str = field("", frozen=True)
    additional_files_tarball_hash: str = field("", frozen=True)
    owner: int = read_only(0, indexed=True)
    state: str = field("DEVELOPMENT", choices=STATES)
    is_valid: bool = field(True)
    metadata: JsonObject = field({})
    user_metadata: JsonObject = field({})
    container_config: JsonObject = field({}, frozen=True)
    parameters_config: JsonObject | None = field(None, frozen=True)
    created_at: str | None = read_only()
    modified_at: str | None = read_only()


@resource("benchmark", "benchmarks")
@attrs.frozen(kw_only=True)
class Benchmark:
    id: int = read_only(0)
    name: str = field("", required=True, unique=True, max_length=MEDPERF_TEXT)
    description: str = field("", max_length=MEDPERF_TEXT)
    docs_url: str = field("")
    owner: int = read_only(0, indexed=True)
    demo_dataset_tarball_url: str = field("", required=True)  # MedPerf's client refuses a benchmark without
    demo_dataset_tarball_hash: str = field("", frozen=True)
    demo_dataset_generated_uid: str = field("")
    data_preparation_mlcube: int = field(0, required=True, frozen=True)
    reference_model_mlcube: int = field(0, required=True, frozen=True)
    data_evaluator_mlcube: int = field(0, required=True, frozen=True)
    metadata: JsonObject = field({})
    state: str = field("DEVELOPMENT", choices=STATES)
    is_valid: bool = field(True)
    is_active: bool = field(True)
    approval_status: str = field("PENDING", choices=APPROVALS)
    user_metadata: JsonObject = field({})
    # Who joins without waiting for the owner (MedPerf's fields); changed only through the policy endpoint.
    dataset_auto_approval_mode: str = read_only("NEVER", choices=AUTO_APPROVAL_MODES)
    dataset_auto_approval_allow_list: list[str] = read_only([])
    model_auto_approval_mode: str = read_only("NEVER", choices=AUTO_APPROVAL_MODES)
    model_auto_approval_allow_list: list[str] = read_only([])
    association_policy_version: int = read_only(0)
    # The metric the leaderboard ranks models by (a flattened key such as `auc` or `per_class.normal.sensitivity`,
    # higher is better); empty: the first metric of the results.
    primary_metric: str = field("")
    approved_at: str | None = read_only()
    created_at: str | None = read_only()
    modified_at: str | None = read_only()


@resource("dataset", "datasets")
@attrs.frozen(kw_only=True)
class Dataset:
    id: int = read_only(0)
    name: str = field("", required=True, max_length=MEDPERF_TEXT)
    description: str = field("", max_length=MEDPERF_TEXT)
    location: str = field("", max_length=MEDPERF_TEXT)
    owner: int = read_only(0, indexed=True)
    input_data_hash: str = field("", required=True, frozen=True)
    generated_uid: str = field("", required=True, frozen=True)
    split_seed: int = field(0)
    data_preparation_mlcube: int = field(0, required=True, frozen=True)
    is_valid: bool = field(True)
    submitted_as_prepared: bool = field(False)
    state: str = field("DEVELOPMENT", choices=STATES)
    generated_metadata: JsonObject = field({}, frozen=True)
    user_metadata: JsonObject = field({})
    report: JsonObject = field({})
    created_at: str | None = read_only()
    modified_at: str | None = read_only()


@resource("dataset_association", "dataset_associations")
@attrs.frozen(kw_only=True)
class DatasetAssociation:
    id: int = read_only(0)
    dataset: int = field(0, required=True, indexed=True)
    benchmark: int = field(0, required=True, indexed=True)
    initiated_by: int | None = read_only()
    metadata: JsonObject = field({})
    approval_status: str = read_only("PENDING", choices=APPROVALS)
    approved_at: str | None = read_only()
    created_at: str | None = read_only()
    modified_at: str | None = read_only()


@resource("model_association", "model_associations")
@attrs.frozen(kw_only=True)
class ModelAssociation:
    id: int = read_only(0)
    model_mlcube: int = field(0, required=True, indexed=True)
    benchmark: int = field(0, required=True, indexed=True)
    initiated_by: int | None = read_only()
    metadata: JsonObject = field({})
    approval_status: str = read_only("PENDING", choices=APPROVALS)
    priority: int = read_only(0)
    approved_at: str | None = read_only()
    created_at: str | None = read_only()
    modified_at: str | None = read_only()


@resource("result", "results")
@attrs.frozen(kw_only=True)
class Result:
    id: int = read_only(0)
    name: str = field("", max_length=MEDPERF_TEXT)
    owner: int = read_only(0, indexed=True)
    benchmark: int = field(0, required=True, indexed=True)
    model: int = field(0, required=True)
    dataset: int = field(0, required=True)
    results: JsonObject = field({})
    metadata: JsonObject = field({})
    user_metadata: JsonObject = read_only({})
    approval_status: str = read_only("PENDING", choices=APPROVALS)
    is_valid: bool = read_only(True)
    approved_at: str | None = read_only()
    created_at: str | None = read_only()
    modified_at: str | None = read_only()


@resource("association_decision", None)
@attrs.frozen(kw_only=True)
class AssociationDecision:
    """The benchmark owner's decision on an association request (a model's priority too)."""

    approval_status: str | None = field(choices=("APPROVED", "REJECTED"))
    priority: int | None = field()


@resource("association_policy", None)
@attrs.frozen(kw_only=True)
class AssociationPolicyChange:
    """The benchmark owner's association policy: for datasets and for models, NEVER, ALWAYS or ALLOWLIST."""

    dataset_auto_approval_mode: str | None = field(choices=AUTO_APPROVAL_MODES)
    dataset_auto_approval_allow_list: list[str] | None = field()
    model_auto_approval_mode: str | None = field(choices=AUTO_APPROVAL_MODES)
    model_auto_approval_allow_list: list[str] | None = field()


USER = RESOURCES["user"]
CONTAINER = RESOURCES["container"]
BENCHMARK = RESOURCES["benchmark"]
DATASET = RESOURCES["dataset"]
DATASET_ASSOCIATION = RESOURCES["dataset_association"]
MODEL_ASSOCIATION = RESOURCES["model_association"]
RESULT = RESOURCES["result"]
ASSOCIATIONS = {"dataset": DATASET_ASSOCIATION, "model": MODEL_ASSOCIATION}
DECISION = COMMANDS["association_decision"]
POLICY = COMMANDS["association_policy"]
