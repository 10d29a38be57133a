"""Generate the event catalog: one JSON Schema (draft 2020-12) per event type and version, from the classes.

Run `python events/generate_schemas.py` after adding or changing an event class, review the diff, commit it.
`--check` exits 1 when a committed schema differs from what the classes say (tests/test_event_catalog.py).
Schemas of older versions stay in the catalog: logs written with them must remain auditable.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

import attrs

CATALOG = Path(__file__).resolve().parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"

_SCALARS: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    float: {"type": "number"},
}


def type_schema(hint: Any) -> dict[str, Any]:
    """The JSON Schema of one type hint, limited to what events use (scalars, dicts, lists, optionals)."""
    if hint is Any:
        return {}
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [type_schema(a) for a in args if a is not type(None)]
        schema: dict[str, Any] = options[0] if len(options) == 1 else {"anyOf": options}
        if type(None) in args:
            if set(schema) == {"type"}:
                return {"type": [schema["type"], "null"]}
            return {"anyOf": [schema, {"type": "null"}]}
        return schema
    if origin is dict:
        key, value = args or (str, Any)
        if key is not str:
            raise TypeError(f"event dicts must have str keys, not {key!r}")
        value_schema = type_schema(value)
        return (
            {"type": "object", "additionalProperties": value_schema} if value_schema else {"type": "object"}
        )
    if origin in (list, tuple) and args:
        return {"type": "array", "items": type_schema(args[0])}
    raise TypeError(f"no JSON Schema mapping for the type hint {hint!r}; extend events/generate_schemas.py")


def _default(field: attrs.Attribute[Any]) -> tuple[bool, Any]:
    default = field.default
    if default is attrs.NOTHING:
        return False, None
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return True, default.factory()  # type: ignore[attr-defined]
    return True, default


def event_schema(cls: type[Any]) -> dict[str, Any]:
    """The schema of the payload `cls.to_payload()` produces (exactly its fields, no others)."""
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in attrs.fields(cls):
        prop = type_schema(hints[field.name])
        has_default, default = _default(field)
        if has_default:
            prop["default"] = default
        else:
            required.append(field.name)
        properties[field.name] = prop
    doc = (cls.__doc__ or "").strip()
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"urn:medperf:event:{cls.type}:v{cls.schema_version}",
        "title": f"{cls.type} v{cls.schema_version} ({cls.__name__})",
    }
    if doc and not doc.startswith(cls.__name__ + "("):  # attrs' generated signature is not documentation
        schema["description"] = " ".join(doc.split())
    schema.update(
        {
            "x-medperf-type": cls.type,
            "x-medperf-schema-version": cls.schema_version,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
    )
    return schema


def schema_path(type_name: str, version: int, root: Path = CATALOG) -> Path:
    return root / type_name / f"v{version}.schema.json"


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def expected_files(root: Path = CATALOG) -> dict[Path, str]:
    from medperf_core.domain.events import EVENT_CLASSES

    return {
        schema_path(cls.type, cls.schema_version, root): render(event_schema(cls))
        for cls in EVENT_CLASSES.values()
    }


def load_catalog(root: Path = CATALOG) -> dict[tuple[str, int], dict[str, Any]]:
    """Every schema in the catalog by (type, version)."""
    catalog = {}
    for path in sorted(root.glob("*/v*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        catalog[(schema["x-medperf-type"], schema["x-medperf-schema-version"])] = schema
    return catalog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Only compare; exit 1 on drift.")
    args = parser.parse_args(argv)
    drift = []
    for path, text in sorted(expected_files().items()):
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        drift.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in drift:
        verb = "differs" if args.check else "written"
        print(f"{path.relative_to(CATALOG.parent)} {verb}", file=sys.stderr)
    return 1 if args.check and drift else 0


if __name__ == "__main__":
    sys.exit(main())
