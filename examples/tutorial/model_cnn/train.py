"""Train the one-layer CNN's weights inside the base image (see the README) into additional_files/weights.npz.

The background is the mean normal image; the filter is a centre-surround blob detector of the opacity's size;
the logistic scale and bias are fitted by gradient descent on training
images (a different seed from the tutorial's data).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
from infer import feature
from PIL import Image


def blob_kernel(size: int = 9, sigma: float = 3.5) -> np.ndarray:
    axis = np.arange(size) - (size - 1) / 2
    g = np.exp(-(axis[:, None] ** 2 + axis[None, :] ** 2) / (2 * sigma**2))
    k = g - g.mean()
    return (k / np.linalg.norm(k)).astype(np.float32)


def main(raw: Path, out: Path) -> None:
    kernel = blob_kernel()
    with (raw / "labels" / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))
    images = np.stack([np.asarray(Image.open(raw / "images" / r["image"]), np.float32) / 255 for r in rows])
    y = np.array([r["label"] == "pneumonia" for r in rows], dtype=float)
    background = images[y == 0].mean(axis=0)  # the normal anatomy, learned from the normal training images
    x = np.array([feature(image, kernel, background) for image in images])
    mu, sd = x.mean(), x.std()
    z = (x - mu) / sd
    w, b = 1.0, 0.0
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(w * z + b)))
        w -= 0.1 * float(((p - y) * z).mean())
        b -= 0.1 * float((p - y).mean())
    scale, bias = w / sd, mu - b * sd / w
    accuracy = float((((x - bias) * scale > 0) == (y > 0)).mean())
    np.savez(
        out,
        kernel=kernel,
        background=background.astype(np.float32),
        bias=np.float32(bias),
        scale=np.float32(scale),
    )
    print(
        f"trained on {len(rows)} images: scale={scale:.3f} bias={bias:.4f} training accuracy={accuracy:.3f}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
