"""Tutorial data preparation: prepare (PNG → normalised .npy), sanity_check, statistics."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

VOLUMES = Path("/mlcommons/volumes")


def load_params(path: Path) -> dict:
    params = yaml.safe_load(path.read_text()) or {}
    params.setdefault("image_size", 32)
    params.setdefault("classes", ["normal", "pneumonia"])
    return params


def prepare(raw_data: Path, raw_labels: Path, params: dict, out_data: Path, out_labels: Path) -> None:
    classes = list(params["classes"])
    size = int(params["image_size"])
    with (raw_labels / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit("labels.csv has no rows")
    prepared = []
    for row in rows:
        name, label = row["image"], row["label"]
        if label not in classes:
            sys.exit(f"image {name}: unknown label {label!r}; expected one of {classes}")
        image = Image.open(raw_data / name).convert("L")
        if image.size != (size, size):
            image = image.resize((size, size), Image.BILINEAR)
        array = np.asarray(image, dtype=np.float32) / 255.0
        case_id = Path(name).stem
        np.save(out_data / f"{case_id}.npy", array)
        prepared.append((case_id, classes.index(label)))
    with (out_labels / "labels.csv").open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("id", "label"))
        writer.writerows(prepared)
    print(f"prepared {len(prepared)} images of {size}x{size}")


def load_prepared(data: Path, labels: Path, params: dict) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Read prepared data, exiting non-zero with a message at the first problem."""
    problems = []
    label_file = labels / "labels.csv"
    if not label_file.is_file():
        sys.exit(f"sanity check failed: {label_file.name} is missing from the prepared labels")
    with label_file.open() as f:
        rows = list(csv.DictReader(f))
    if not rows:
        problems.append("labels.csv has no rows")
    size = int(params["image_size"])
    arrays: dict[str, np.ndarray] = {}
    labels_by_id: dict[str, int] = {}
    for row in rows:
        case_id, label = row.get("id"), row.get("label")
        if label not in {"0", "1"}:
            problems.append(f"case {case_id}: label {label!r} is not 0 or 1")
            continue
        path = data / f"{case_id}.npy"
        if not path.is_file():
            problems.append(f"case {case_id}: {path.name} is missing")
            continue
        try:
            array = np.load(path, allow_pickle=False)
        except Exception as e:  # a truncated or foreign file
            problems.append(f"case {case_id}: {path.name} cannot be read ({e})")
            continue
        if array.shape != (size, size):
            problems.append(f"case {case_id}: shape {array.shape}, expected {(size, size)}")
        elif not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            problems.append(f"case {case_id}: values outside [0, 1]")
        arrays[case_id] = array
        labels_by_id[case_id] = int(label)
    extra = sorted(p.name for p in data.iterdir() if p.suffix == ".npy" and p.stem not in labels_by_id)
    if extra:
        problems.append(f"{len(extra)} prepared image(s) without a label, e.g. {extra[0]}")
    if problems:
        sys.exit("sanity check failed: " + "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
    return arrays, labels_by_id


def statistics(data: Path, labels: Path, params: dict, out_file: Path) -> None:
    arrays, labels_by_id = load_prepared(data, labels, params)
    stack = np.stack([arrays[k] for k in sorted(arrays)])
    classes = list(params["classes"])
    counts = {name: sum(1 for v in labels_by_id.values() if v == i) for i, name in enumerate(classes)}
    stats = {
        "n_images": len(arrays),
        "class_counts": counts,
        "image_size": list(stack.shape[1:]),
        "intensity": {"mean": round(float(stack.mean()), 6), "std": round(float(stack.std()), 6)},
    }
    out_file.write_text(yaml.safe_dump(stats, sort_keys=False))
    print(yaml.safe_dump(stats, sort_keys=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["prepare", "sanity_check", "statistics"])
    task = parser.parse_args().task
    params = load_params(VOLUMES / "parameters" / "parameters.yaml")
    if task == "prepare":
        prepare(VOLUMES / "raw_data", VOLUMES / "raw_labels", params, VOLUMES / "data", VOLUMES / "labels")
    elif task == "sanity_check":
        arrays, _ = load_prepared(VOLUMES / "data", VOLUMES / "labels", params)
        print(f"sanity check passed: {len(arrays)} cases")
    else:
        statistics(VOLUMES / "data", VOLUMES / "labels", params, VOLUMES / "statistics" / "statistics.yaml")


if __name__ == "__main__":
    main()
