"""The tutorials' workspace in MedPerf's layout, made locally and offline (what MedPerf's tutorial scripts download).

    medperf_tutorial/data_preparator/{container_config.yaml,workspace/parameters.yaml}
    medperf_tutorial/model_custom_cnn/{container_config.yaml,workspace/parameters.yaml,workspace/additional_files/}
    medperf_tutorial/model_custom_cnn/cnn_weights.tar.gz             the reference model's additional files
    medperf_tutorial/model_mobilenetv2/{...same...}, mobilenetv2_weights.tar.gz
    medperf_tutorial/metrics/{container_config.yaml,workspace/parameters.yaml}
    medperf_tutorial/demo_data/{images/,labels/}, medperf_tutorial/paths.yaml, medperf_tutorial/demo_data.tar.gz
    medperf_tutorial/sample_raw_data/{images/,labels/}                the data owner's

Our own tutorial containers sit behind MedPerf's names: `model_custom_cnn` is the one-layer CNN (its weights are
the tarball), `model_mobilenetv2` is the mean-intensity threshold model (its tarball holds its calibration notes,
checked like any weights). Tarballs are byte-for-byte reproducible (sorted, no times, no owners), so their hashes
are the same on every run.
"""

from __future__ import annotations

import gzip
import io
import shutil
import tarfile
from collections.abc import Mapping
from pathlib import Path

import yaml

from medperf_core.tutorial.data import generate_raw_data
from medperf_core.tutorial.images import TutorialContainer, tutorial_containers

# MedPerf's folder → (our container, its weights tarball's name or "")
FOLDERS: dict[str, tuple[str, str]] = {
    "data_preparator": ("prep", ""),
    "model_custom_cnn": ("model-cnn", "cnn_weights.tar.gz"),
    "model_mobilenetv2": ("model-ref", "mobilenetv2_weights.tar.gz"),
    "metrics": ("metrics", ""),
}
DEMO_IMAGES = 10
DEMO_SEED = 7
ROLES = ("benchmark", "model", "data")
_CALIBRATION = {"model": "mean-intensity threshold", "threshold": "auto (the dataset's median)",
                "note": "this model needs no weights; these notes ship as its additional files"}


def reproducible_tarball(dest: Path, root: Path, members: list[Path]) -> Path:
    """A .tar.gz of `members` (paths under `root`, folders recursively) whose bytes depend only on their content."""
    files: list[Path] = []
    for member in members:
        files += [member] if member.is_file() else sorted(p for p in member.rglob("*") if p.is_file())
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            info = tarfile.TarInfo(path.relative_to(root).as_posix())
            data = path.read_bytes()
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out, gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    return dest


def _container_folder(dest: Path, container: TutorialContainer, tarball: str, reference: str | None) -> None:
    work = dest / "workspace"
    work.mkdir(parents=True, exist_ok=True)
    (dest / "container_config.yaml").write_text(container.config_text(reference), encoding="utf-8")
    if container.parameters_path.exists():
        shutil.copyfile(container.parameters_path, work / "parameters.yaml")
    if not tarball:
        return
    extra = work / "additional_files"
    extra.mkdir(exist_ok=True)
    if container.additional_files_path is not None:
        shutil.copytree(container.additional_files_path, extra, dirs_exist_ok=True)
    else:
        (extra / "calibration.yaml").write_text(yaml.safe_dump(_CALIBRATION, sort_keys=True), encoding="utf-8")
    reproducible_tarball(dest / tarball, extra, [extra])


def make_workspace(
    root: Path, role: str, *, n_images: int = 40, images: Mapping[str, str] | None = None
) -> list[str]:
    """Create (or complete) the workspace for one tutorial; returns what was made, one line each. `images`: container
    name → how its config names the image (the pushed `registry/...@sha256:`); without it, the local tags."""
    made: list[str] = []
    if role in ("benchmark", "model"):
        by_name = {c.name: c for c in tutorial_containers()}
        for folder, (name, tarball) in FOLDERS.items():
            reference = (images or {}).get(name)
            _container_folder(root / folder, by_name[name], tarball, reference)
            made.append(
                f"{root / folder}: {name}'s config" + (f" ({reference})" if reference else "") + ", parameters"
                + (f", {tarball}" if tarball else "")
            )
        demo = root / "demo_data"
        if not (demo / "images").is_dir():
            generate_raw_data(demo, n_images=DEMO_IMAGES, seed=DEMO_SEED)
        (root / "paths.yaml").write_text("data_path: demo_data/images\nlabels_path: demo_data/labels\n",
                                         encoding="utf-8")
        reproducible_tarball(root / "demo_data.tar.gz", root, [demo, root / "paths.yaml"])
        made.append(f"{root / 'demo_data.tar.gz'}: the demo dataset ({DEMO_IMAGES} images, labels, paths.yaml)")
    if role == "data":
        raw = root / "sample_raw_data"
        if raw.exists() and any(raw.iterdir()):
            made.append(f"{raw} already exists; kept as it is")
        else:
            generate_raw_data(raw, n_images=n_images)
            made.append(f"{raw}/images and {raw}/labels: toy chest X-ray data")
    return made
