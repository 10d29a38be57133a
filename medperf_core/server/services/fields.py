"""Request bodies checked against a resource's definition: writable fields only, types and choices checked."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from medperf_core.domain.resources import FieldSpec, Resource
from medperf_core.errors import FieldError, UserError

Json = dict[str, Any]

_CHECKS: dict[type, tuple[str, Callable[[Any], bool]]] = {
    str: ("a string", lambda v: isinstance(v, str)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    bool: ("true or false", lambda v: isinstance(v, bool)),
    dict: ("a JSON object", lambda v: isinstance(v, dict)),
    list: ("a list of strings", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
}


def _check(spec: FieldSpec, value: Any) -> Any:
    if spec.kind is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    label, ok = _CHECKS[spec.kind]
    if not ok(value):
        raise FieldError(spec.name, f"{spec.name}: must be {label}, got {json.dumps(value)[:60]}")
    if spec.choices and value not in spec.choices:
        raise FieldError(spec.name, f"{spec.name}: must be one of {', '.join(spec.choices)}")
    problem = size_error(spec, value) or control_error(value)
    if problem:
        raise FieldError(spec.name, f"{spec.name}: {problem}")
    return value


# Control characters that make no sense in any text of an entity: C0 but tab, line feed and carriage return.
# NUL above all: PostgreSQL cannot store it in text or JSON, so a SQLite server holding one could never move.
CONTROL_CHARACTERS = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"  # the same, as the OpenAPI document states it
_CONTROL_TABLE = {ord(c): None for c in CONTROL_CHARACTERS}


def control_error(value: Any) -> str | None:
    """Why the value (text, or any text inside a list or JSON object, keys included) holds a control character
    (None: it does not). The HTTP models and the local backend use the same rule."""
    if isinstance(value, str):
        if value.translate(_CONTROL_TABLE) == value:
            return None
        at = next(i for i, c in enumerate(value) if c in CONTROL_CHARACTERS)
        return (f"control character U+{ord(value[at]):04X} at position {at} is not allowed in text "
                "(only tab, line feed and carriage return are)")
    if isinstance(value, dict):
        value = [x for pair in value.items() for x in pair]
    if isinstance(value, list):
        for item in value:
            problem = control_error(item)
            if problem:
                return problem
    return None


def size_error(spec: FieldSpec, value: Any) -> str | None:
    """Why the value is longer than the field allows (None: it is not). The HTTP models use the same rule."""
    limit = spec.size_limit()
    if limit is None:
        return None
    if isinstance(value, str):
        if len(value) > limit:
            return f"at most {limit} characters, got {len(value)}"
        return None
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    if size > limit:
        return f"at most {limit} characters of JSON, got {size}"
    return None


def clean(body: Mapping[str, Any], resource: Resource, *, creating: bool = False) -> Json:
    """The writable fields the body sets (unknown and read-only fields, nulls, and `""` in a field that is not text
    are ignored), checked.

    Creating, the resource's required fields must be present and not empty; updating, they cannot be emptied.
    """
    if not isinstance(body, Mapping):
        raise UserError("the request body must be a JSON object")
    out: Json = {}
    for spec in resource.writable():
        value = body.get(spec.name)
        if value is not None and not (value == "" and spec.kind is not str):  # MedPerf's client: "" is unset
            out[spec.name] = _check(spec, value)
    for spec in resource.fields:
        if spec.required and (out.get(spec.name) == "" or (creating and spec.name not in out)):
            raise FieldError(spec.name, f"{spec.name}: this field is required")
    return out
