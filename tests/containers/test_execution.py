"""The shared run logic every runner uses, tested without an engine: mounts, fresh outputs, results, GPUs."""

from __future__ import annotations

from pathlib import Path

import pytest

from medperf_core.containers.config import loads_container_config
from medperf_core.containers.execution import ImageDefaults, check_image_hash, finish_run, prepare_run
from medperf_core.containers.gpus import GpuRequest, parse_gpus
from medperf_core.containers.runner import RunRequest
from medperf_core.errors import ConfigError, ContainerFailedError, IntegrityError

CONFIG = loads_container_config("""\
image: demo:1
tasks:
  stats:
    run_args: {command: "python3 /app/stats.py"}
    input_volumes:
      data_path: {mount_path: /in/data, type: directory}
      parameters_file: {mount_path: /in/params.yaml, type: file}
    output_volumes:
      output_path: {mount_path: /out/stats/statistics.yaml, type: file}
      report_path: {mount_path: /out/report, type: directory}
""")


@pytest.fixture
def request_(tmp_path: Path) -> RunRequest:
    (tmp_path / "data").mkdir()
    (tmp_path / "params.yaml").write_text("a: 1\n")
    return RunRequest(
        config=CONFIG,
        task="stats",
        inputs={"data_path": tmp_path / "data", "parameters_file": tmp_path / "params.yaml"},
        outputs={
            "output_path": tmp_path / "res" / "statistics.yaml",
            "report_path": tmp_path / "res" / "report",
        },
        log_path=tmp_path / "logs" / "stats.log",
    )


def test_mounts_are_resolved_read_only_inputs_and_writable_outputs(
    request_: RunRequest, tmp_path: Path
) -> None:
    prepared = prepare_run(request_)
    by_name = {m.name: m for m in prepared.mounts}
    assert by_name["data_path"].read_only and by_name["parameters_file"].read_only
    assert not by_name["report_path"].read_only and (tmp_path / "res" / "report").is_dir()
    staged = prepared.staged[0]
    assert (
        by_name["output_path"].target == "/out/stats" and by_name["output_path"].source == staged.staging_dir
    )
    assert prepared.argv(ImageDefaults(["/entry"], ["cmd"])) == ("/entry", "python3", "/app/stats.py")
    assert (tmp_path / "logs").is_dir()


def test_finish_moves_file_outputs_into_place_and_cleans_staging(
    request_: RunRequest, tmp_path: Path
) -> None:
    prepared = prepare_run(request_)
    prepared.staged[0].staged_file.write_text("n: 3\n")
    (tmp_path / "res" / "report" / "r.txt").write_text("ok")
    result = finish_run(prepared, 0, 1.5, "sha256:abc")
    assert (tmp_path / "res" / "statistics.yaml").read_text() == "n: 3\n"
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["report", "statistics.yaml"]
    assert (result.exit_code, result.duration_s, result.image_hash) == (0, 1.5, "sha256:abc")


def test_a_non_zero_exit_names_task_code_and_log(request_: RunRequest) -> None:
    prepared = prepare_run(request_)
    request_.log_path.write_text("Traceback...\nValueError: bad pixel\n")
    with pytest.raises(ContainerFailedError) as info:
        finish_run(prepared, 3, 0.1, "sha256:abc")
    assert "'stats'" in info.value.message and "code 3" in info.value.message
    assert str(request_.log_path) in info.value.message
    assert info.value.hint and "ValueError: bad pixel" in info.value.hint
    assert not prepared.staged[0].staging_dir.exists()


def test_missing_outputs_fail(request_: RunRequest, tmp_path: Path) -> None:
    prepared = prepare_run(request_)
    with pytest.raises(ContainerFailedError, match="output_path"):
        finish_run(prepared, 0, 0.1, "sha256:abc")
    prepared = prepare_run(request_)
    prepared.staged[0].staged_file.write_text("n: 3\n")
    with pytest.raises(ContainerFailedError, match="report_path"):
        finish_run(prepared, 0, 0.1, "sha256:abc")


@pytest.mark.parametrize(
    "broken", ["missing_input", "wrong_type", "unknown_output", "used_output", "existing_file"]
)
def test_unrunnable_requests_are_config_errors(request_: RunRequest, tmp_path: Path, broken: str) -> None:
    inputs, outputs = dict(request_.inputs), dict(request_.outputs)
    if broken == "missing_input":
        del inputs["parameters_file"]
    elif broken == "wrong_type":
        inputs["parameters_file"] = tmp_path / "data"
    elif broken == "unknown_output":
        outputs["extra"] = tmp_path / "extra"
    elif broken == "used_output":
        outputs["report_path"].mkdir(parents=True)
        (outputs["report_path"] / "old").write_text("x")
    else:
        outputs["output_path"].parent.mkdir(parents=True)
        outputs["output_path"].write_text("old")
    bad = RunRequest(config=CONFIG, task="stats", inputs=inputs, outputs=outputs, log_path=request_.log_path)
    with pytest.raises(ConfigError) as info:
        prepare_run(bad)
    assert info.value.hint


def test_digest_check_accepts_equal_and_refuses_different(request_: RunRequest) -> None:
    import attrs

    prepared = prepare_run(attrs.evolve(request_, expected_image_hash="ABC"))
    check_image_hash(prepared, "sha256:abc", "rebuild")
    with pytest.raises(IntegrityError, match="was registered"):
        check_image_hash(prepared, "sha256:def", "rebuild it")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", None),
        ("all", GpuRequest(count=-1)),
        ("2", GpuRequest(count=2)),
        ("device=0,1", GpuRequest(device_ids=("0", "1"))),
        ("1,3", GpuRequest(device_ids=("1", "3"))),
    ],
)
def test_gpus_are_parsed(value: str | None, expected: GpuRequest | None) -> None:
    assert parse_gpus(value) == expected


def test_bad_gpus_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="gpus"):
        parse_gpus("lots")


def test_a_task_with_nothing_to_run_is_a_config_error(tmp_path: Path) -> None:
    config = loads_container_config("image: bare:1\ntasks:\n  go: {}\n")
    prepared = prepare_run(RunRequest(config=config, task="go", inputs={}, outputs={}, log_path=tmp_path / "go.log"))
    with pytest.raises(ConfigError, match="neither ENTRYPOINT nor CMD") as info:
        prepared.argv(ImageDefaults())
    assert info.value.hint and "command" in info.value.hint
    assert prepared.argv(ImageDefaults(None, ["sh"])) == ("sh",)


def test_the_configs_environment_and_gpus_yield_to_the_callers(tmp_path: Path) -> None:
    config = loads_container_config(
        "image: a:1\ntasks:\n  go: {run_args: {environment: {A: config, B: config}, gpus: all}}\n"
    )

    def prepared(**options: object) -> object:
        return prepare_run(RunRequest(config=config, task="go", inputs={}, outputs={}, log_path=tmp_path / "l",
                                      **options))  # type: ignore[arg-type]

    assert prepared(env={"B": "caller"}).environment == {"A": "config", "B": "caller"}  # type: ignore[attr-defined]
    assert prepared().gpus == "all"  # type: ignore[attr-defined]
    assert prepared(gpus="device=1").gpus == "device=1"  # type: ignore[attr-defined]


def test_a_run_label_marks_the_containers_of_one_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from medperf_core.containers.leftovers import LABEL_OWNER, LABEL_RUN, labels

    monkeypatch.delenv("MEDPERF_RUN_LABEL", raising=False)
    assert set(labels()) == {LABEL_OWNER}
    monkeypatch.setenv("MEDPERF_RUN_LABEL", "crash-trials-1")
    assert labels()[LABEL_RUN] == "crash-trials-1" and labels()[LABEL_OWNER].count(":") == 2
