"""Toy chest X-ray data for the tutorial: 32x32 grayscale PNGs, "normal" or "pneumonia" (a bright opacity)."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

from medperf_core.tutorial.png import write_gray_png

SIZE = 32
CLASSES = ("normal", "pneumonia")
_LUNGS = ((10.0, 15.0), (22.0, 15.0))  # centres (x, y) of the two darker lung fields
_BLOB_AMPLITUDE = 80.0
_BLOB_SIGMA = 3.5


def _image(rng: random.Random, pneumonia: bool) -> list[list[int]]:
    offset = rng.gauss(0.0, 3.0)
    blob = None
    if pneumonia:
        cx, cy = rng.choice(_LUNGS)
        blob = (cx + rng.uniform(-3, 3), cy + rng.uniform(-5, 5))
    rows = []
    for y in range(SIZE):
        row = []
        for x in range(SIZE):
            value = 120.0 + 40.0 * y / SIZE + offset  # brighter towards the abdomen
            for lx, ly in _LUNGS:
                if ((x - lx) / 5.5) ** 2 + ((y - ly) / 10.0) ** 2 <= 1.0:
                    value -= 50.0
            if blob is not None:
                value += _BLOB_AMPLITUDE * math.exp(
                    -((x - blob[0]) ** 2 + (y - blob[1]) ** 2) / (2 * _BLOB_SIGMA**2)
                )
            row.append(round(value + rng.gauss(0.0, 12.0)))
        rows.append(row)
    return rows


def generate_raw_data(dest: Path, n_images: int = 40, seed: int = 0) -> Path:
    """Write `dest/images/*.png` and `dest/labels/labels.csv` (image,label): same seed, same bytes.

    Classes alternate so both are always present (half each, the extra one "normal").
    """
    if n_images < 2:
        raise ValueError("n_images must be at least 2 so both classes appear")
    rng = random.Random(seed)
    images, labels = dest / "images", dest / "labels"
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n_images):
        label = CLASSES[i % 2]
        name = f"cxr_{i:04d}.png"
        write_gray_png(images / name, _image(rng, label == "pneumonia"))
        rows.append((name, label))
    with (labels / "labels.csv").open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("image", "label"))
        writer.writerows(rows)
    return dest
