"""`medperf tutorial`: scaffolding for the tutorials (toy data, images)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("setup")
def setup(
    role: str = typer.Argument("data", help="Which tutorial: data."),
    workspace: Path = typer.Option(Path("medperf_tutorial"), "--workspace", help="Where to create the files."),
    n_images: int = typer.Option(40, "--images", help="How many toy images."),
    skip_images: bool = typer.Option(False, "--skip-build", help="Do not build the container images."),
) -> None:
    """Create medperf_tutorial/sample_raw_data/{images,labels} and build the tutorial images if missing."""
    from medperf_core.errors import UserError
    from medperf_core.tutorial.data import generate_raw_data

    if role != "data":
        raise UserError(f"no tutorial {role!r} here", "use: medperf tutorial setup data")
    dest = workspace / "sample_raw_data"
    if dest.exists() and any(dest.iterdir()):
        typer.echo(f"{dest} already exists; kept as it is")
    else:
        generate_raw_data(dest, n_images=n_images)
        typer.echo(f"✅ toy chest X-ray data in {dest}/images and {dest}/labels")
    if not skip_images:
        build_images()


@app.command("build-images")
def build_images() -> None:
    """Build the tutorial's container images (fast when they exist)."""
    from medperf_core.tutorial.images import build_tutorial_images

    images = build_tutorial_images(typer.echo)
    for name, image_id in images.items():
        typer.echo(f"  {name}: {image_id}")
