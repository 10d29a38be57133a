"""`container run_test`'s own logic: MedPerf's NAME=VALUE lists and binding a task's volumes (the run: tests/e2e)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medperf_core.cli.main import run
from medperf_core.containers.config import parse_container_config
from medperf_core.errors import UserError
from medperf_core.services.run_test import parse_pairs, task_mounts

CONFIG = parse_container_config({
    "image": "example/prep:1",
    "tasks": {"prepare": {
        "input_volumes": {"data_path": {"mount_path": "/in", "type": "directory"},
                          "parameters_file": {"mount_path": "/p.yaml", "type": "file"}},
        "output_volumes": {"output_path": {"mount_path": "/out", "type": "directory"},
                           "report": {"mount_path": "/r/report.yaml", "type": "file"}},
    }},
})


def test_pairs_are_parsed_and_a_malformed_one_is_named() -> None:
    assert parse_pairs(" a=1, b=x=y ,", "--env") == {"a": "1", "b": "x=y"}
    assert parse_pairs(None, "--env") == {}
    with pytest.raises(UserError, match="--mounts 'data_path' is not NAME=VALUE"):
        parse_pairs("data_path", "--mounts")


def test_every_volume_is_bound_inputs_exist_outputs_are_made(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    params = tmp_path / "parameters.yaml"
    params.write_text("a: 1\n", encoding="utf-8")
    mounts = task_mounts(CONFIG.task("prepare"),
                         {"data_path": str(data), "output_path": str(tmp_path / "o"),
                          "report": str(tmp_path / "r" / "report.yaml")}, {"parameters_file": params})
    assert mounts.inputs == {"data_path": data, "parameters_file": params}
    assert mounts.outputs == {"output_path": tmp_path / "o", "report": tmp_path / "r" / "report.yaml"}
    assert (tmp_path / "o").is_dir() and (tmp_path / "r").is_dir() and not (tmp_path / "r" / "report.yaml").exists()


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"nope": "x"}, "task 'prepare' has no volume nope"),
        ({"data_path": "/does/not/exist", "output_path": "o", "report": "r.yaml"}, "does not exist"),
        ({"output_path": "o", "report": "r.yaml"}, "no path for the volume(s) data_path"),
    ],
)
def test_bad_mounts_are_one_clear_error_before_anything_is_made(
    tmp_path: Path, given: dict[str, str], says: str
) -> None:
    task = CONFIG.task("prepare")
    given = {k: v if v.startswith("/") else str(tmp_path / v) for k, v in given.items()}
    (tmp_path / "p.yaml").write_text("a: 1\n", encoding="utf-8")
    with pytest.raises(UserError) as refused:
        task_mounts(task, given, {"parameters_file": tmp_path / "p.yaml"})
    assert says in refused.value.one_line()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.yaml"]  # no output folder made


def test_allow_network_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["container", "run_test", "-m", "x.yaml", "-t", "infer", "--allow_network"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "without a network" in err[0]
