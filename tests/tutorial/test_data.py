"""Tutorial data generation: pure Python, deterministic from the seed, two classes, readable PNGs."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from medperf_core.tutorial.data import SIZE, generate_raw_data
from medperf_core.tutorial.png import decode_gray_png, encode_gray_png


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_layout_and_labels(tmp_path: Path) -> None:
    generate_raw_data(tmp_path, n_images=10, seed=3)
    images = sorted(p.name for p in (tmp_path / "images").iterdir())
    with (tmp_path / "labels" / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["image"] for r in rows] == images and len(images) == 10
    assert {r["label"] for r in rows} == {"normal", "pneumonia"}
    pixels = decode_gray_png((tmp_path / "images" / images[0]).read_bytes())
    assert len(pixels) == SIZE and all(len(row) == SIZE for row in pixels)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a, b, c = (generate_raw_data(tmp_path / name, 6, seed) for name, seed in (("a", 1), ("b", 1), ("c", 2)))
    assert _files(a) == _files(b)
    assert _files(a) != _files(c)


def test_pneumonia_images_are_brighter_on_average(tmp_path: Path) -> None:
    generate_raw_data(tmp_path, n_images=20, seed=0)
    means: dict[str, list[float]] = {"normal": [], "pneumonia": []}
    with (tmp_path / "labels" / "labels.csv").open() as f:
        for row in csv.DictReader(f):
            pixels = decode_gray_png((tmp_path / "images" / row["image"]).read_bytes())
            means[row["label"]].append(sum(map(sum, pixels)) / SIZE**2)
    assert sum(means["pneumonia"]) / 10 > sum(means["normal"]) / 10 + 3


def test_the_generator_needs_neither_numpy_nor_pil(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['numpy'] = None; sys.modules['PIL'] = None\n"
        "from pathlib import Path\n"
        "from medperf_core.tutorial.data import generate_raw_data\n"
        f"generate_raw_data(Path({str(tmp_path)!r}), 4)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert len(list((tmp_path / "images").glob("*.png"))) == 4


@settings(max_examples=50)
@given(st.lists(st.lists(st.integers(0, 255), min_size=3, max_size=3), min_size=1, max_size=5))
def test_png_round_trip(rows: list[list[int]]) -> None:
    assert decode_gray_png(encode_gray_png(rows)) == rows
