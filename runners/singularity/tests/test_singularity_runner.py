"""The Singularity/Apptainer runner passes the runner contract and caches one SIF per image digest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from medperf_singularity.runner import SingularityRunner
from medperf_singularity.sif import sif_path

from medperf_core.containers.config import ContainerConfig
from medperf_core.testing.formats_contract import FormatsContract
from medperf_core.testing.runner_contract import RunnerContract, require_engine

pytestmark = pytest.mark.singularity


@pytest.fixture(autouse=True)
def sif_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One MEDPERF_HOME for the whole module, so the SIF cache is shared by its tests but never the user's."""
    home = tmp_path_factory.getbasetemp() / "singularity-medperf-home"
    monkeypatch.setenv("MEDPERF_HOME", str(home))
    return home


class TestSingularityRunner(RunnerContract):
    @pytest.fixture
    def runner(self) -> SingularityRunner:
        return require_engine(SingularityRunner())

    def test_the_sif_is_built_once_per_digest_and_reused(
        self, runner: SingularityRunner, config: ContainerConfig, tmp_path: Path
    ) -> None:
        digest = runner.image_hash(config)
        sif = sif_path(digest)
        assert sif.is_file() and sif.name == f"{digest.split(':')[1]}.sif"
        built_at = sif.stat().st_mtime_ns
        runner.run(self.request(config, tmp_path, "network"))
        assert sif.stat().st_mtime_ns == built_at
        # the SIF and its note of the image's ENTRYPOINT, CMD and working directory, no temp files
        mine = sorted(p.name for p in sif.parent.iterdir() if p.name.startswith(sif.stem) or p.name.startswith("."))
        assert mine == sorted([sif.name, sif.with_suffix(".image.json").name])


class TestSingularityFormats(FormatsContract):
    @pytest.fixture
    def runner(self) -> SingularityRunner:
        return require_engine(SingularityRunner())


def test_the_plugin_registers_singularity_without_importing_spython() -> None:
    code = (
        "import sys\n"
        "from medperf_core.registry import Registry\n"
        "from medperf_singularity import plugin\n"
        "r = Registry('runner'); plugin.medperf_register_runners(r)\n"
        "assert r.names() == ['singularity'], r.names()\n"
        "assert 'spython' not in sys.modules and 'docker' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
