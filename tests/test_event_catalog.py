"""The event catalog in events/: a schema per event type and version, in step with the classes; LOG-FORMAT."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest
from _event_strategies import events_of
from hypothesis import given, settings
from hypothesis import strategies as st

from medperf_core.cli.main import run
from medperf_core.domain import events as domain_events
from medperf_core.domain.events import EVENT_CLASSES, DomainEvent
from medperf_core.store.canonical import canonical_bytes
from medperf_core.store.mapper import UPCASTERS, to_new_event
from medperf_core.store.sqlite import sqlite_store

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
LOG_FORMAT = EVENTS_DIR / "LOG-FORMAT.md"
sys.path.insert(0, str(EVENTS_DIR))
import generate_schemas  # noqa: E402

sys.path.remove(str(EVENTS_DIR))

CATALOG = generate_schemas.load_catalog()


def test_every_event_class_has_a_schema_matching_its_fields() -> None:
    drifted = [
        str(path.relative_to(EVENTS_DIR))
        for path, text in generate_schemas.expected_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not drifted, f"run `python events/generate_schemas.py` and commit: {drifted}"


def test_the_generator_check_mode_agrees() -> None:
    done = subprocess.run(
        [sys.executable, str(EVENTS_DIR / "generate_schemas.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_every_schema_in_the_catalog_belongs_to_a_known_event_version() -> None:
    for type_name, version in CATALOG:
        assert type_name in EVENT_CLASSES, f"events/{type_name}/ has no event class"
        current = EVENT_CLASSES[type_name].schema_version
        assert version <= current, f"events/{type_name}/v{version} is newer than the class (v{current})"
        if version < current:  # an old version is kept for old logs: it must be readable
            assert (type_name, version) in UPCASTERS, f"{type_name} v{version} needs an upcaster"


@pytest.mark.parametrize("schema", CATALOG.values(), ids=[f"{t}-v{v}" for t, v in CATALOG])
def test_schemas_are_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_a_changed_class_is_detected_as_drift() -> None:
    @attrs.frozen(kw_only=True)
    class DatasetPreparedWithMore(domain_events.DatasetPrepared):
        seconds: float = 0.0

    committed = CATALOG[("dataset.prepared", 1)]
    assert (
        generate_schemas.event_schema(domain_events.DatasetPrepared)["properties"] == committed["properties"]
    )
    assert generate_schemas.event_schema(DatasetPreparedWithMore)["properties"] != committed["properties"]


@pytest.mark.parametrize("type_name", sorted(EVENT_CLASSES))
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_generated_events_validate_against_their_schema(type_name: str, data: st.DataObject) -> None:
    new = to_new_event(data.draw(events_of(EVENT_CLASSES[type_name])), actor="a")
    jsonschema.validate(new.payload, CATALOG[(new.type, new.schema_version)], jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    "payload",
    [
        {"dataset_id": 1},  # a required field missing
        {"dataset_id": "1", "generated_uid": "g"},  # a wrong type
        {"dataset_id": True, "generated_uid": "g"},  # a bool is not an integer
        {"dataset_id": 1, "generated_uid": "g", "surprise": 1},  # an unknown field
        {"dataset_id": 1, "generated_uid": "g", "statistics": []},
    ],
)
def test_schemas_refuse_malformed_payloads(payload: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, CATALOG[("dataset.prepared", 1)], jsonschema.Draft202012Validator)


# --- LOG-FORMAT.md ---


def verifier_source() -> str:
    text = LOG_FORMAT.read_text(encoding="utf-8")
    match = re.search(r"<!-- verifier:begin -->\s*```python\n(.*?)```\s*<!-- verifier:end -->", text, re.S)
    assert match, "LOG-FORMAT.md lost its verifier snippet markers"
    return match.group(1)


def run_verifier(tmp_path: Path, log: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "verify_log.py"
    script.write_text(verifier_source(), encoding="utf-8")
    return subprocess.run([sys.executable, "-I", str(script), str(log)], capture_output=True, text=True)


def write_log(path: Path) -> None:
    events: list[tuple[str, DomainEvent]] = [
        (
            "dataset-1",
            domain_events.DatasetRegistered(
                dataset_id=1,
                name="Chest X-ray — site A",
                owner=3,
                input_data_hash="9f2c",
                generated_uid="a41b",
                data_preparation_mlcube=2,
                benchmark=1,
            ),
        ),
        (
            "dataset-1",
            domain_events.DatasetPrepared(
                dataset_id=1,
                generated_uid="a41b",
                statistics={"images": 120, "mean_age": 54.5, "note": 'q"\\\n\t\x01'},
            ),
        ),
        (
            "execution-b1m4d1",
            domain_events.ExecutionFinished(
                uid="b1m4d1",
                benchmark=1,
                model=4,
                dataset=1,
                metrics={"auc": 0.1 + 0.2, "tiny": 1e-7, "big": 1e16},
            ),
        ),
    ]
    with sqlite_store(path) as store:
        for stream, event in events:
            store.append(stream, store.load(stream)[1], [event], actor="testdo@example.com")


def export(store: Path, output: Path) -> None:
    assert run(["events", "export", "--store", str(store), "-o", str(output)]) == 0


def test_the_documented_verifier_accepts_an_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, log = tmp_path / "events.db", tmp_path / "log.jsonl"
    write_log(store)
    export(store, log)
    assert verifier_source().count("\n") <= 40
    done = run_verifier(tmp_path, log)
    assert done.returncode == 0, done.stdout + done.stderr
    capsys.readouterr()
    assert run(["events", "verify", "--store", str(store)]) == 0
    head = capsys.readouterr().out.split("head ")[1].strip()
    assert done.stdout.strip() == f"intact: 3 events, head {head}"


@pytest.mark.parametrize(
    ("line", "change", "broken"),
    [
        (1, lambda e: e["payload"].update(mean_age=54.6), 2),
        (0, lambda e: e.update(actor="someone@else"), 1),
        (2, lambda e: e.update(prev_hash="0" * 64), 3),
        (1, lambda e: e.update(position=3), 2),
    ],
)
def test_the_documented_verifier_names_the_broken_position(
    tmp_path: Path, line: int, change: Any, broken: int
) -> None:
    store, log = tmp_path / "events.db", tmp_path / "log.jsonl"
    write_log(store)
    export(store, log)
    lines = log.read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[line])
    change(event)
    lines[line] = json.dumps(event, ensure_ascii=False)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_verifier(tmp_path, log)
    assert done.returncode == 1
    assert done.stdout.startswith(f"broken at position {broken}:")


def test_a_reordered_export_is_refused(tmp_path: Path) -> None:
    store, log = tmp_path / "events.db", tmp_path / "log.jsonl"
    write_log(store)
    export(store, log)
    lines = log.read_text(encoding="utf-8").splitlines()
    log.write_text("\n".join([lines[1], lines[0], lines[2]]) + "\n", encoding="utf-8")
    assert run_verifier(tmp_path, log).stdout.startswith("broken at position 1:")


def test_the_worked_example_numbers_are_right(tmp_path: Path) -> None:
    """The exported lines, body sizes and hashes printed in LOG-FORMAT.md §4 are what the code computes."""
    section = LOG_FORMAT.read_text(encoding="utf-8").split("## 4. Worked example")[1].split("## 5.")[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    exported = next(body for lang, body in blocks if lang == "json")
    decoder, rows, rest = json.JSONDecoder(), [], exported.strip()
    while rest:
        row, end = decoder.raw_decode(rest)
        rows.append(row)
        rest = rest[end:].strip()
    bodies = [body.strip() for lang, body in blocks if lang == "" and body.startswith('{"actor"')]
    prev = "0" * 64
    for row, body in zip(rows, bodies, strict=True):
        hashed = {
            k: row[k]
            for k in (
                "position",
                "stream",
                "version",
                "type",
                "schema_version",
                "recorded_at",
                "actor",
                "payload",
            )
        }
        assert canonical_bytes(hashed).decode("utf-8") == body
        assert f"{len(body.encode('utf-8'))} bytes" in section
        assert row["prev_hash"] == prev
        assert hashlib.sha256(prev.encode("ascii") + body.encode("utf-8")).hexdigest() == row["hash"]
        assert row["hash"] in section
        prev = row["hash"]
    log = tmp_path / "example.jsonl"
    log.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert run_verifier(tmp_path, log).stdout.strip() == f"intact: 2 events, head {prev}"
