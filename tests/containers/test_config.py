"""container_config.yaml parsing: MedPerf's format unchanged; each invalid config one clear ConfigError."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from medperf_core.containers.config import (
    ContainerConfig,
    load_container_config,
    loads_container_config,
    parse_container_config,
)
from medperf_core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

MEDPERF_STYLE = """\
container_type: DockerImage
image: mlcommons/chestxray-prep:0.1.0
tasks:
  prepare:
    run_args:
      command: python3 /project/prepare.py --flag "two words"
    input_volumes:
      data_path:
        mount_path: /mlcommons/volumes/raw_data
        type: directory
      labels_path:
        mount_path: /mlcommons/volumes/raw_labels
        type: directory
      parameters_file:
        mount_path: /mlcommons/volumes/parameters/parameters.yaml
        type: file
    output_volumes:
      output_path:
        mount_path: /mlcommons/volumes/data
        type: directory
  infer:
    run_args:
      command: [python3, /project/infer.py]
    input_volumes:
      additional_files:
        mount_path: /mlcommons/volumes/additional_files
        type: directory
    output_volumes:
      output_path:
        mount_path: /mlcommons/volumes/predictions
        type: directory
"""


def test_medperf_format_is_parsed_unchanged() -> None:
    config = loads_container_config(MEDPERF_STYLE)
    assert config.image == "mlcommons/chestxray-prep:0.1.0"
    assert config.container_type == "DockerImage"
    prepare = config.task("prepare")
    assert prepare.command == ("python3", "/project/prepare.py", "--flag", "two words")
    assert [v.name for v in prepare.input_volumes] == ["data_path", "labels_path", "parameters_file"]
    assert prepare.parameters_volume is not None and prepare.parameters_volume.is_file
    assert prepare.output("output_path") is not None
    infer = config.task("infer")
    assert infer.command == ("python3", "/project/infer.py")
    assert infer.additional_files_volume is not None and infer.additional_files_volume.type == "directory"
    assert infer.parameters_volume is None


def test_config_objects_are_frozen() -> None:
    config = loads_container_config(MEDPERF_STYLE)
    with pytest.raises(AttributeError):
        config.image = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        config.task("prepare").command = ()  # type: ignore[misc]


def test_every_tutorial_config_parses() -> None:
    paths = sorted((REPO / "examples" / "tutorial").glob("*/container_config.yaml"))
    assert len(paths) >= 4
    for path in paths:
        config = load_container_config(path)
        assert config.image.startswith("medperf-tutorial/")
        assert config.source == path


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MEDPERF_STYLE)
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


_DELETE = object()
_PREP_IN = ["tasks", "prepare", "input_volumes"]


@pytest.mark.parametrize(
    ("path", "value", "message", "hint"),
    [
        ([*_PREP_IN, "data_path", "mount_path"], _DELETE, "no mount_path", "mount_path"),
        ([*_PREP_IN, "data_path", "mount_path"], "relative/path", "not an absolute path", "absolute"),
        ([*_PREP_IN, "data_path", "mount_path"], "/", "not an absolute path", "absolute"),
        ([*_PREP_IN, "data_path", "type"], "folder", "has type 'folder'", "type: directory"),
        ([*_PREP_IN, "data_path"], "just-a-string", "must be a mapping", "mount_path"),
        ([*_PREP_IN, "labels_path", "mount_path"], "/mlcommons/volumes/raw_data", "share mount_path", "own"),
        (
            [*_PREP_IN, "labels_path", "mount_path"],
            "/mlcommons/volumes/raw_data/x",
            "inside another",
            "sibling",
        ),
        (["tasks", "prepare", "run_args", "command"], [], "run_args.command .* is empty", "leave it out"),
        (["tasks", "prepare", "run_args", "command"], {"a": 1}, "run_args.command .* is empty", "command:"),
        (["tasks", "prepare", "run_args", "entrypoint"], "", "run_args.entrypoint .* is empty", "entrypoint:"),
        (["tasks", "prepare", "run_args", "ports"], ["0.0.0.0:8080:80"], "run_args.ports .* network", "ports"),
        (["tasks", "prepare", "run_args", "network"], "host", "run_args.network .* network", "network"),
        (["tasks", "prepare", "run_args", "network_mode"], "host", "run_args.network_mode .* network", "network"),
        (["tasks", "prepare", "run_args", "privileged"], True, "run_args.privileged .* privileges", "privileged"),
        (["tasks", "prepare", "run_args", "cap_add"], ["SYS_ADMIN"], "run_args.cap_add .* privileges", "cap_add"),
        (["tasks", "prepare", "run_args", "user"], "0:0", "run_args.user .* privileges", "user"),
        (["tasks", "prepare", "run_args", "volumes"], ["/:/host"], "run_args.volumes .* mounts", "volumes"),
        (["tasks", "prepare", "run_args", "remove"], True, "run_args.remove .* not supported", "environment"),
        (["tasks", "prepare", "run_args", "environment"], ["A=1"], "environment .* mapping", "NAME: value"),
        (["tasks", "prepare", "run_args", "environment"], {"1A": "x"}, "invalid variable name", "letters"),
        (["tasks", "prepare", "run_args", "environment"], {"A": {"b": 1}}, "environment.A", "A: value"),
        (["tasks", "prepare", "run_args", "shm_size"], "lots", "shm_size .* not a size", "2g"),
        (["tasks", "prepare", "run_args", "gpus"], "some", "run_args.gpus", "device=0,1"),
        (["tasks", "prepare", "run_args", "gpus"], [0, 1], "run_args.gpus", "device=0,1"),
        (["tasks", "prepare", "run_args"], "python3 x.py", "run_args of .* must be a mapping", "command"),
        (["tasks", "prepare", "run_args", "command"], "python3 'unclosed", "cannot be split", "quotes"),
        (["tasks"], _DELETE, "no `tasks`", "tasks"),
        (["tasks"], {}, "no `tasks`", "tasks"),
        (["image"], _DELETE, "no valid `image`", "image: name:tag"),
        (["image"], "has space:1", "no valid `image`", "image"),
        (["container_type"], "PodmanThing", "not supported", "DockerImage"),
        (
            ["tasks", "infer", "output_volumes", "additional_files"],
            {"mount_path": "/o", "type": "directory"},
            "both an input and an output",
            "different names",
        ),
    ],
)
def test_invalid_configs_raise_one_config_error_with_a_hint(
    path: list[Any], value: Any, message: str, hint: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_container_config(_mutate(path, value))
    assert info.value.hint and hint in info.value.hint


IMAGE_ENTRYPOINT = ("/bin/sh", "/entry.sh")
IMAGE_CMD = ("default",)


def test_a_task_without_run_args_runs_the_image_entrypoint_and_cmd() -> None:
    data = _mutate(["tasks", "prepare", "run_args"], _DELETE)
    task = parse_container_config(data).task("prepare")
    assert task.command is None and task.entrypoint is None
    assert task.argv(IMAGE_ENTRYPOINT, IMAGE_CMD) == ("/bin/sh", "/entry.sh", "default")
    assert task.environment == {} and task.shm_size is None and task.gpus is None


def test_run_args_without_command_keep_the_image_cmd() -> None:
    data = _mutate(["tasks", "prepare", "run_args"], {"environment": {"ROLE": "infer", "N": 3, "ON": True}})
    task = parse_container_config(data).task("prepare")
    assert task.command is None
    assert task.environment == {"ROLE": "infer", "N": "3", "ON": "true"}
    assert task.argv(IMAGE_ENTRYPOINT, IMAGE_CMD) == ("/bin/sh", "/entry.sh", "default")


def test_a_command_is_appended_to_the_image_entrypoint_as_docker_does() -> None:
    task = loads_container_config(MEDPERF_STYLE).task("infer")
    assert task.argv(IMAGE_ENTRYPOINT, IMAGE_CMD) == ("/bin/sh", "/entry.sh", "python3", "/project/infer.py")
    assert task.argv((), IMAGE_CMD) == ("python3", "/project/infer.py")


def test_an_entrypoint_replaces_the_image_one_and_drops_its_cmd() -> None:
    only = parse_container_config(_mutate(["tasks", "infer", "run_args"], {"entrypoint": "/usr/bin/env python3"}))
    # MedPerf passes a string entrypoint as one word (docker run --entrypoint), never split
    assert only.task("infer").entrypoint == ("/usr/bin/env python3",)
    assert only.task("infer").argv(IMAGE_ENTRYPOINT, IMAGE_CMD) == ("/usr/bin/env python3",)
    both = parse_container_config(
        _mutate(["tasks", "infer", "run_args"], {"entrypoint": ["/bin/sh", "-c"], "command": ["echo hi"]})
    )
    assert both.task("infer").argv(IMAGE_ENTRYPOINT, IMAGE_CMD) == ("/bin/sh", "-c", "echo hi")


def test_every_run_arg_medperf_supports_is_accepted() -> None:
    run_args = {"command": "infer --x=1", "entrypoint": "/entry", "environment": {"A": "b"}, "shm_size": "2g",
                "gpus": "device=0,1"}
    task = parse_container_config(_mutate(["tasks", "infer", "run_args"], run_args)).task("infer")
    assert (task.command, task.entrypoint, dict(task.environment), task.shm_size, task.gpus) == (
        ("infer", "--x=1"), ("/entry",), {"A": "b"}, "2g", "device=0,1"
    )
    for gpus, kept in ((1, "1"), ("all", "all"), (0, "0"), ("", None)):
        counted = parse_container_config(_mutate(["tasks", "infer", "run_args", "gpus"], gpus))
        assert counted.task("infer").gpus == kept
    assert parse_container_config(_mutate(["tasks", "infer", "run_args", "shm_size"], 1024)).task("infer").shm_size \
        == "1024"


MLCUBE_MODEL = """\
name: A model
description: an mlcube.yaml as MedPerf's older containers ship it
docker:
  image: example/model-mlcube:0.1
  build_context: ../project
  gpu_args: --gpus=all --shm-size 1g
tasks:
  infer:
    parameters:
      inputs: {
        data_path: data/,
        parameters_file: parameters.yaml,
        weights: additional_files/weights/w.txt,
      }
      outputs: {
        output_path: {type: directory, default: predictions}
      }
  statistics:
    entrypoint: python3 /project/stats.py --verbose
    parameters:
      inputs: {data_path: {type: directory, default: data}, parameters_file: parameters.yaml}
      outputs: {output_path: statistics.yaml}
"""


def test_an_mlcube_yaml_maps_onto_the_same_config() -> None:
    config = loads_container_config(MLCUBE_MODEL, Path("/x/mlcube.yaml"))
    assert config.image == "example/model-mlcube:0.1" and config.container_type == "DockerImage"
    infer = config.task("infer")
    assert [(v.name, v.mount_path, v.type) for v in infer.input_volumes] == [
        ("data_path", "/mlcube_io0", "directory"),
        ("parameters_file", "/mlcube_io1/parameters.yaml", "file"),
        ("additional_files", "/mlcube_io2", "directory"),
    ]
    assert [(v.name, v.mount_path, v.type) for v in infer.output_volumes] == [
        ("output_path", "/mlcube_io3", "directory")
    ]
    # MLCube's convention: the task name, then --name=path, to the image's own ENTRYPOINT
    assert infer.entrypoint is None and infer.command == (
        "infer", "--data_path=/mlcube_io0", "--parameters_file=/mlcube_io1/parameters.yaml",
        "--weights=/mlcube_io2/weights/w.txt", "--output_path=/mlcube_io3",
    )
    assert infer.parameters_volume is not None and infer.additional_files_volume is not None
    assert infer.shm_size == "1g"
    stats = config.task("statistics")
    assert stats.entrypoint == ("python3",)
    assert stats.command == (
        "/project/stats.py", "--verbose", "--data_path=/mlcube_io0",
        "--parameters_file=/mlcube_io1/parameters.yaml", "--output_path=/mlcube_io2/statistics.yaml",
    )
    assert stats.output("output_path") == stats.output_volumes[0] and stats.output_volumes[0].is_file


def test_an_mlcube_yaml_loads_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mlcube.yaml"
    path.write_text(MLCUBE_MODEL)
    assert load_container_config(path).task("infer").input("data_path") is not None


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("singularity: {image: x.sif}\ntasks: {infer: {parameters: {}}}\n", "no `docker:` section", "docker:"),
        ("docker: {image: 'a b'}\ntasks: {infer: {parameters: {}}}\n", "no valid `docker.image`", "image"),
        ("docker: {image: a:1}\n", "no `tasks`", "tasks:"),
        ("docker: {image: a:1}\ntasks: {infer: {}}\n", "no `parameters:`", "parameters"),
        ("docker: {image: a:1}\ntasks: {infer: {parameters: {inputs: [a]}}}\n", "inputs of .* mapping", "mlcube"),
        ("docker: {image: a:1}\ntasks: {infer: {parameters: {inputs: {a: 3}}}}\n", "'a' .* has no path", "a:"),
        (
            "docker: {image: a:1}\ntasks: {infer: {parameters: {inputs: {a: {type: blob, default: x}}}}}\n",
            "type 'blob'",
            "type: file",
        ),
        ("docker: {image: a:1}\ntasks: {i: {entrypoint: \"'x\", parameters: {}}}\n", "cannot be split", "quotes"),
        ("docker: {image: a:1, gpu_args: --shm-size lots}\ntasks: {i: {parameters: {}}}\n", "not a size", "2g"),
    ],
)
def test_invalid_mlcube_yaml_raise_one_config_error(text: str, message: str, hint: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        loads_container_config(text)
    assert info.value.hint and hint in info.value.hint


def test_unparseable_yaml_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        loads_container_config("image: a:1\ntasks:\n  - [unclosed\n", Path("bad.yaml"))
    assert "bad.yaml" in info.value.message and info.value.hint


def test_a_non_mapping_document_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a mapping"):
        loads_container_config("- just\n- a list\n")


def test_an_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="no task 'evaluate'") as info:
        loads_container_config(MEDPERF_STYLE).task("evaluate")
    assert info.value.hint and "infer, prepare" in info.value.hint


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_container_config(tmp_path / "nope.yaml")


# --- properties ---------------------------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
commands = st.lists(st.from_regex(r"[A-Za-z0-9_./=-]{1,12}", fullmatch=True), min_size=1, max_size=5)


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    tasks: dict[str, Any] = {}
    for task_name in draw(st.lists(names, min_size=1, max_size=4, unique=True)):
        volume_names = draw(st.lists(names, min_size=0, max_size=6, unique=True))
        split = draw(st.integers(0, len(volume_names)))
        volumes = {
            name: {"mount_path": f"/mnt/v{i}/{name}", "type": draw(st.sampled_from(["file", "directory"]))}
            for i, name in enumerate(volume_names)
        }
        command = draw(commands)
        tasks[task_name] = {
            "run_args": {"command": draw(st.sampled_from([command, " ".join(command)]))},
            "input_volumes": {n: volumes[n] for n in volume_names[:split]},
            "output_volumes": {n: volumes[n] for n in volume_names[split:]},
        }
    return {"container_type": "DockerImage", "image": draw(names) + ":1", "tasks": tasks}


@given(configs())
def test_valid_configs_round_trip_through_yaml(data: dict[str, Any]) -> None:
    config = loads_container_config(yaml.safe_dump(data, sort_keys=False))
    assert isinstance(config, ContainerConfig)
    assert config.image == data["image"]
    assert set(config.tasks) == set(data["tasks"])
    for name, raw in data["tasks"].items():
        task = config.task(name)
        expected_command = raw["run_args"]["command"]
        if isinstance(expected_command, str):
            expected_command = expected_command.split()
        assert list(task.command) == expected_command
        assert [(v.name, v.mount_path, v.type) for v in task.input_volumes] == [
            (n, v["mount_path"], v["type"]) for n, v in raw["input_volumes"].items()
        ]
        assert [v.name for v in task.output_volumes] == list(raw["output_volumes"])


@given(configs())
def test_parsing_is_deterministic(data: dict[str, Any]) -> None:
    assert parse_container_config(data) == parse_container_config(data)


@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        loads_container_config(text)


def test_medperfs_metadata_path_loads_in_both_formats() -> None:
    """MedPerf's data preparators may declare `metadata_path`: an output of prepare, an input of the later steps."""
    dirs = {"type": "directory"}
    config = parse_container_config({"image": "example/prep:1", "tasks": {
        "prepare": {"output_volumes": {"output_path": {"mount_path": "/d", **dirs},
                                       "metadata_path": {"mount_path": "/m", **dirs}}},
        "statistics": {"input_volumes": {"data_path": {"mount_path": "/d", **dirs},
                                         "metadata_path": {"mount_path": "/m", **dirs}}},
    }})
    assert config.task("prepare").output("metadata_path") is not None
    assert config.task("statistics").input("metadata_path") is not None
    mlcube = loads_container_config(yaml.safe_dump({"docker": {"image": "example/prep:1"}, "tasks": {
        "prepare": {"parameters": {"inputs": {"data_path": "data/"},
                                   "outputs": {"output_path": "prepped/",
                                               "metadata_path": {"type": "directory", "default": "metadata"}}}},
        "statistics": {"parameters": {"inputs": {"data_path": "prepped/", "metadata_path": "metadata/"},
                                      "outputs": {"output_path": "statistics.yaml"}}},
    }}))
    metadata = mlcube.task("prepare").output("metadata_path")
    assert metadata is not None and metadata.type == "directory"
    assert f"--metadata_path={metadata.mount_path}" in (mlcube.task("prepare").command or ())
    assert mlcube.task("statistics").input("metadata_path") is not None
