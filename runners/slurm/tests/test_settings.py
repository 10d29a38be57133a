"""Slurm settings: the profile's flags, time limits in Slurm's formats, and the sbatch options they become."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from medperf_slurm.runner import job_script
from medperf_slurm.settings import SlurmSettings, parse_time_limit, time_option

from medperf_core.cli.main import run
from medperf_core.errors import ConfigError
from medperf_core.profiles import ProfileStore


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDPERF_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MEDPERF_PROFILE", raising=False)
    return tmp_path / "home"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 5400), ("2:30", 150), ("4:00:00", 14400), ("1-12", 129600), ("1-0:30", 88200), ("0-0:0:5", 5)],
)
def test_time_limits_in_slurm_formats(text: str, seconds: float) -> None:
    assert parse_time_limit(text) == seconds


def test_a_bad_time_limit_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="time limit"):
        SlurmSettings.from_mapping({"time_limit": "soon"})


def test_an_unknown_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="queue"):
        SlurmSettings.from_mapping({"queue": "x"})


def test_sbatch_options_from_settings() -> None:
    settings = SlurmSettings.from_mapping(
        {"partition": "gpu", "account": "lab", "cpus": 4, "memory": "16G", "gpus": "a100:1", "extra_args": "--qos=hi"}
    )
    assert settings.sbatch_options(61) == [
        "--time=2",
        "--partition=gpu",
        "--account=lab",
        "--cpus-per-task=4",
        "--mem=16G",
        "--gpus=a100:1",
        "--qos=hi",
    ]
    assert SlurmSettings().sbatch_options(None) == []
    assert time_option(1) == "1"


def test_the_container_timeout_wins_over_the_slurm_time_limit() -> None:
    settings = SlurmSettings(time_limit="10")
    assert settings.timeout(None) == 600
    assert settings.timeout(5) == 5
    assert SlurmSettings().timeout(None) is None


def test_the_shared_dir_defaults_under_medperf_home(home: Path, tmp_path: Path) -> None:
    assert SlurmSettings().root == home / "slurm"
    assert SlurmSettings.from_mapping({"shared_dir": str(tmp_path)}).root == tmp_path


def test_the_job_script_quotes_the_command() -> None:
    script = job_script(["singularity", "exec", "--env", "A=b c", "x.sif", "sh", "-c", "echo 'hi'"])
    assert "singularity exec --env 'A=b c' x.sif sh -c 'echo '\"'\"'hi'\"'\"''" in script
    assert script.startswith("#!/bin/sh\n") and 'exit "$rc"' in script


def test_profile_set_stores_the_slurm_settings(tmp_path: Path) -> None:
    args = ["profile", "set", "--platform", "slurm", "--slurm-partition", "gpu", "--slurm-cpus", "2"]
    assert run([*args, "--slurm-time-limit", "1:00:00", "--slurm-shared-dir", str(tmp_path)]) == 0
    assert run(["profile", "set", "--slurm-memory", "8G", "--slurm-extra-args", "--qos=hi"]) == 0
    profile = ProfileStore().active()
    assert profile.platform == "slurm"
    assert profile.slurm == {
        "partition": "gpu",
        "cpus": 2,
        "time_limit": "1:00:00",
        "shared_dir": str(tmp_path),
        "memory": "8G",
        "extra_args": "--qos=hi",
    }
    assert SlurmSettings.from_profile().sbatch_options(None)[0] == "--partition=gpu"
    assert run(["profile", "set", "--slurm-partition", ""]) == 0  # an empty value clears it
    assert "partition" not in ProfileStore().active().slurm


def test_the_plugin_registers_slurm_without_importing_spython() -> None:
    code = (
        "import sys\n"
        "from medperf_core.registry import Registry\n"
        "from medperf_slurm import plugin\n"
        "r = Registry('runner'); plugin.medperf_register_runners(r)\n"
        "assert r.names() == ['slurm'], r.names()\n"
        "assert 'spython' not in sys.modules and 'docker' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
