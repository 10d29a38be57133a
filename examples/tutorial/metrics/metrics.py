"""Tutorial metrics: accuracy, per-class sensitivity/specificity and AUC of predictions against labels."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import yaml

VOLUMES = Path("/mlcommons/volumes")


def read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        sys.exit(f"{path.name} is missing from {path.parent}")
    with path.open() as f:
        return list(csv.DictReader(f))


def auc(scores: list[float], truth: list[int]) -> float | None:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos = [s for s, t in zip(scores, truth, strict=True) if t == 1]
    neg = [s for s, t in zip(scores, truth, strict=True) if t == 0]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def main() -> None:
    params = yaml.safe_load((VOLUMES / "parameters" / "parameters.yaml").read_text()) or {}
    classes = list(params.get("classes", ["normal", "pneumonia"]))
    labels = {r["id"]: int(r["label"]) for r in read_csv(VOLUMES / "labels" / "labels.csv")}
    predictions = {r["id"]: r for r in read_csv(VOLUMES / "predictions" / "predictions.csv")}
    missing = sorted(set(labels) - set(predictions))
    if missing:
        sys.exit(f"{len(missing)} labelled case(s) have no prediction, e.g. {missing[0]}")
    ids = sorted(labels)
    truth = [labels[i] for i in ids]
    predicted = [int(predictions[i]["prediction"]) for i in ids]
    scores = [float(predictions[i]["score"]) for i in ids]
    if any(not 0.0 <= s <= 1.0 for s in scores):
        sys.exit("scores must lie in [0, 1]")
    per_class = {}
    for index, name in enumerate(classes):
        tp = sum(t == index and p == index for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == index and p != index for t, p in zip(truth, predicted, strict=True))
        tn = sum(t != index and p != index for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != index and p == index for t, p in zip(truth, predicted, strict=True))
        per_class[name] = {"sensitivity": ratio(tp, tp + fn), "specificity": ratio(tn, tn + fp)}
    area = auc(scores, truth)
    results = {
        "n_cases": len(ids),
        "accuracy": round(sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(ids), 6),
        "auc": None if area is None else round(area, 6),
        "per_class": per_class,
    }
    (VOLUMES / "results" / "results.yaml").write_text(yaml.safe_dump(results, sort_keys=False))
    print(yaml.safe_dump(results, sort_keys=False))


if __name__ == "__main__":
    main()
