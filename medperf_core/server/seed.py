"""`medperf server seed`: the entities each tutorial starts from, registered through the services as the demo users.

data      → containers 1 prep, 2 reference model, 3 metrics (testbo), 4 second model (testmo); benchmark 1
            "chestxray" (testbo) in OPERATION, approved by testadmin, models 2 and 4 approved
model     → the demo users, containers 1 prep, 2 the CNN (reference), 3 metrics and benchmark 1 with its demo
            dataset, as the benchmark-owner tutorial leaves them (the model owner registers model 4 themselves)
benchmark → the demo users only (the benchmark owner registers everything themselves), as in MedPerf
Seeding refuses a server that already has events (not idempotent on purpose: ids must be the tutorial's).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from medperf_core.domain.containers import bare_image_hash
from medperf_core.errors import ConflictError
from medperf_core.server.auth import DEMO_USERS
from medperf_core.server.files import FILES_DIR, FileStore, file_url
from medperf_core.server.services import Json, ServerServices
from medperf_core.services.tarballs import make_tarball

if TYPE_CHECKING:
    from medperf_core.tutorial.images import TutorialImage

DEMOS = ("data", "benchmark", "model")
BENCHMARK_NAME = "chestxray"
BENCHMARK_DESCRIPTION = "Chest X-ray tutorial"  # MedPerf's client takes at most 20 characters
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEMO_PATHS_FILE = "paths.yaml"  # in a demo dataset tarball: where its data and labels are, as MedPerf reads it
_ORDER = ("prep", "model", "metrics")  # container ids 1, 2, 3; the second model is 4


class Publisher:
    """Stores the seed's files in the server's file store and names them by their public URL."""

    def __init__(self, data_dir: Path, public_url: str) -> None:
        self.files = FileStore(data_dir / FILES_DIR)
        self.public_url = public_url

    def publish(self, path: Path) -> tuple[str, str]:
        stored = self.files.save_path(path)
        return file_url(self.public_url, stored.sha256), stored.sha256


def container_body(container: Any, image: TutorialImage | None, publisher: Publisher) -> Json:
    """The registration body of one tutorial container: the config and parameters inline (our client's fast path)
    and, as MedPerf publishes them, as files at URLs with their sha256 (additional files as one .tar.gz). The
    config names the image as it was pushed (registry and digest) when it was built here; else its local tag."""
    text = container.config_text(image.reference if image else None)
    with tempfile.TemporaryDirectory() as tmp:
        config_file = Path(tmp) / "container_config.yaml"
        config_file.write_text(text, encoding="utf-8")
        config_url, config_hash = publisher.publish(config_file)
    body: Json = {
        "name": f"{BENCHMARK_NAME}-{container.name}",
        "container_config": yaml.safe_load(text),
        "git_mlcube_url": config_url,
        "mlcube_hash": config_hash,
        "image_hash": bare_image_hash(image.image_id) if image else "",
        "state": "OPERATION",
        "metadata": {"role": container.role, "image": image.reference if image else container.image,
                     "tutorial": True},
    }
    if container.parameters_path.exists():
        body["parameters_config"] = (
            yaml.safe_load(container.parameters_path.read_text(encoding="utf-8")) or {}
        )
        body["git_parameters_url"], body["parameters_hash"] = publisher.publish(container.parameters_path)
    extra = container.additional_files_path
    if extra is not None:
        with tempfile.TemporaryDirectory() as tmp:
            tarball = make_tarball(extra, Path(tmp) / "additional_files.tar.gz")
            body["additional_files_tarball_url"], body["additional_files_tarball_hash"] = publisher.publish(tarball)
    return body


def demo_dataset(publisher: Publisher) -> tuple[str, str]:
    """The benchmark's demo dataset: a few toy images and their labels with `paths.yaml`, as one .tar.gz."""
    from medperf_core.tutorial.data import generate_raw_data

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        generate_raw_data(root / "data", n_images=8, seed=7)
        (root / DEMO_PATHS_FILE).write_text(
            yaml.safe_dump({"data_path": "data/images", "labels_path": "data/labels"}), encoding="utf-8"
        )
        return publisher.publish(make_tarball(root, Path(tmp) / "demo_dataset.tar.gz"))


def _ordered_containers() -> list[Any]:
    from medperf_core.tutorial.images import tutorial_containers

    found = tutorial_containers()
    first = sorted(
        (c for c in found if c.role in _ORDER and c.name != "model-cnn"), key=lambda c: _ORDER.index(c.role)
    )
    return [*first, *(c for c in found if c not in first)]


def seed_demo(
    data_dir: Path,
    demo: str,
    *,
    build_images: bool = True,
    progress: Callable[[str], None] | None = None,
    public_url: str = DEFAULT_PUBLIC_URL,
) -> list[str]:
    """Seed an empty server's data dir; returns one line per registered entity.

    Its files (container configs, parameters, additional files, demo datasets) go into the server's file store
    and are named by URLs under `public_url`: the address the server will be reached at."""
    say = progress or (lambda _m: None)
    images: dict[str, TutorialImage] = {}
    if build_images and demo != "benchmark":
        from medperf_core.tutorial.images import publish_tutorial_images

        say("building the tutorial images and pushing them to their registry (fast when they are there)")
        images = publish_tutorial_images(say)
    services = ServerServices.open(data_dir)
    try:
        events = services.store.head().position
        if events:
            raise ConflictError(
                f"the server in {data_dir} is not empty ({events} events)",
                f"start from a fresh database: medperf server reset --data-dir {data_dir} -y",
            )
        return _seed(services, demo, images, Publisher(data_dir, public_url))
    finally:
        services.close()


def _seed(
    services: ServerServices, demo: str, images: dict[str, TutorialImage], publisher: Publisher
) -> list[str]:
    admin, bo, mo, do = (
        services.users.identify(DEMO_USERS[f"test{r}@example.com"]) for r in ("admin", "bo", "mo", "do")
    )
    if demo == "benchmark":
        return [f"user {u.id}: {u.email}" for u in (admin, bo, mo, do)]
    if demo == "model":
        return _seed_model(services, images, publisher, admin, bo)
    lines = []
    containers = _ordered_containers()
    ids = {}
    for container in containers:
        owner = mo if container.name == "model-cnn" else bo
        row = services.containers.create(owner, container_body(container, images.get(container.name), publisher))
        ids[container.name] = row["id"]
        lines.append(f"container {row['id']}: {row['name']} ({container.role}, owner {owner.email})")
    prep, ref, metrics = (ids[c.name] for c in containers[:3])
    demo_url, demo_hash = demo_dataset(publisher)
    benchmark = services.benchmarks.create(
        bo,
        {
            "name": BENCHMARK_NAME,
            "description": BENCHMARK_DESCRIPTION,
            "docs_url": "",
            "demo_dataset_tarball_url": demo_url,
            "demo_dataset_tarball_hash": demo_hash,
            "data_preparation_mlcube": prep,
            "reference_model_mlcube": ref,
            "data_evaluator_mlcube": metrics,
            "state": "OPERATION",
        },
    )
    services.benchmarks.update(admin, benchmark["id"], {"approval_status": "APPROVED"})
    lines.append(
        f"benchmark {benchmark['id']}: {BENCHMARK_NAME} (OPERATION, approved; reference model {ref})"
    )
    model = ids["model-cnn"]
    services.associations.request(mo, "model", {"model_mlcube": model, "benchmark": benchmark["id"]})
    services.associations.update(bo, "model", model, benchmark["id"], {"approval_status": "APPROVED"})
    lines.append(f"model {model} associated with benchmark {benchmark['id']} (approved)")
    return lines


def _seed_model(
    services: ServerServices, images: dict[str, TutorialImage], publisher: Publisher, admin: Any, bo: Any
) -> list[str]:
    """What the benchmark-owner tutorial leaves: its three containers and its approved, operational benchmark."""
    from medperf_core.tutorial.images import tutorial_containers
    from medperf_core.tutorial.workspace import FOLDERS, make_workspace

    by_name = {c.name: c for c in tutorial_containers()}
    lines, ids = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_workspace(work, "benchmark", images={name: image.reference for name, image in images.items()})
        for folder in ("data_preparator", "model_custom_cnn", "metrics"):
            name, tarball = FOLDERS[folder]
            body = container_body(by_name[name], images.get(name), publisher)
            body.pop("additional_files_tarball_url", None)
            body.pop("additional_files_tarball_hash", None)
            if tarball:
                body["additional_files_tarball_url"], body["additional_files_tarball_hash"] = publisher.publish(
                    work / folder / tarball)
            row = services.containers.create(bo, body)
            ids.append(row["id"])
            lines.append(f"container {row['id']}: {row['name']} (owner {bo.email})")
        demo_url, demo_hash = publisher.publish(work / "demo_data.tar.gz")
    benchmark = services.benchmarks.create(bo, {
        "name": "tutorial_bmk", "description": "MedPerf demo bmk", "demo_dataset_tarball_url": demo_url,
        "demo_dataset_tarball_hash": demo_hash, "data_preparation_mlcube": ids[0],
        "reference_model_mlcube": ids[1], "data_evaluator_mlcube": ids[2], "state": "OPERATION",
    })
    services.benchmarks.update(admin, benchmark["id"], {"approval_status": "APPROVED"})
    lines.append(f"benchmark {benchmark['id']}: tutorial_bmk (OPERATION, approved; reference model {ids[1]})")
    return lines
