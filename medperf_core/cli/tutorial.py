"""`medperf tutorial`: scaffolding for the tutorials (toy data, images)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("setup")
def setup(
    role: str = typer.Argument("data", help="Which tutorial: benchmark, model or data."),
    workspace: Path = typer.Option(Path("medperf_tutorial"), "--workspace", help="Where to create the files."),
    n_images: int = typer.Option(40, "--images", help="How many toy images (the data owner's)."),
    skip_images: bool = typer.Option(False, "--skip-build", help="Do not build the container images."),
) -> None:
    """Create the tutorial's workspace in MedPerf's layout (configs, weights tarballs, demo tarball, toy data),
    locally and offline; build the tutorial images if missing and push them to the tutorial registry, so the
    configs name them by registry and digest."""
    from medperf_core.errors import UserError
    from medperf_core.tutorial.workspace import ROLES, make_workspace

    if role not in ROLES:
        raise UserError(f"no tutorial {role!r} here", f"use one of: {', '.join(ROLES)}")
    references = None if skip_images else build_images()
    for line in make_workspace(workspace, role, n_images=n_images, images=references):
        typer.echo(f"✅ {line}" if "kept" not in line else line)


@app.command("build-images")
def build_images() -> dict[str, str]:
    """Build the tutorial's container images and push them to the tutorial registry (fast when they are there);
    MEDPERF_TUTORIAL_REGISTRY (default localhost:5000; empty: none) says where."""
    from medperf_core.tutorial.images import publish_tutorial_images

    images = publish_tutorial_images(typer.echo)
    for name, image in images.items():
        typer.echo(f"  {name}: {image.reference} (image id {image.image_id})")
    return {name: image.reference for name, image in images.items()}
