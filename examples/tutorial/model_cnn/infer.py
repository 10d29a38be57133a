"""Tutorial second model: a one-layer CNN (background removal, one filter, max pooling, logistic)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import yaml
from numpy.lib.stride_tricks import sliding_window_view

VOLUMES = Path("/mlcommons/volumes")


def feature(image: np.ndarray, kernel: np.ndarray, background: np.ndarray) -> float:
    """Highest filter response over the residual image (minus the learned normal anatomy), max-pooled."""
    residual = image - background
    windows = sliding_window_view(residual - residual.mean(), kernel.shape)
    return float(np.einsum("ijkl,kl->ij", windows, kernel).max())


def main() -> None:
    params = yaml.safe_load((VOLUMES / "parameters" / "parameters.yaml").read_text()) or {}
    weights = np.load(VOLUMES / "additional_files" / params.get("weights", "weights.npz"), allow_pickle=False)
    kernel, background = weights["kernel"], weights["background"]
    bias, scale = float(weights["bias"]), float(weights["scale"])
    cases = sorted((VOLUMES / "data").glob("*.npy"))
    if not cases:
        raise SystemExit("no prepared images (*.npy) in the data volume")
    with (VOLUMES / "predictions" / "predictions.csv").open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("id", "score", "prediction"))
        for path in cases:
            logit = scale * (feature(np.load(path, allow_pickle=False), kernel, background) - bias)
            score = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))
            writer.writerow((path.stem, f"{score:.6f}", int(score >= 0.5)))
    print(f"predicted {len(cases)} cases")


if __name__ == "__main__":
    main()
