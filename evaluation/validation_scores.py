"""Every validation photo's scores from a served model, one CSV row each: `reports/validation_scores*.csv`.

CLI:

    nice -n 10 python -m evaluation.validation_scores [--model-dir inference/model]
        [--out reports/validation_scores.csv]
        [--parts val] [--data-root ../shared/data]

Scores the model as the worker runs it (`evaluation.external.score_served`: the engine's runtime, the card's
views, the not-assessable checks, metadata blank) on each source's validation part (HAM10000's lesion split
and the external sets' patient or lesion split, `training.sources`). Per photo: the source, its dx label, the
true photo type, whether the model would assess it, the detected photo type, the seven probabilities and the
malignant probability the worker stores when the type is detected, and the malignant probability when the
patient gives the true type (the phone capture flow asks; scored again only where detection was wrong). The
per-photo-type advice thresholds (`training.advice_points`) and the melanoma-against-nevus figures are
computed from this file, so choosing them needs no model run.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
from pathlib import Path

import numpy as np

from training.contract import CLASSES, MALIGNANT_CLASSES
from training.sources import SHARED_DATA, SOURCES, Sample, load_samples

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
MALIGNANT_INDEX = [CLASSES.index(c) for c in MALIGNANT_CLASSES]
COLUMNS = (
    "model_version",
    "source",
    "split",
    "path",
    "dx",
    "malignant",
    "photo_type",
    "assessable",
    "clinical_probability",
    "detected_type",
    *(f"p_{c}" for c in CLASSES),
    "malignant_probability",
    "malignant_probability_given_type",
)


def _relative(path: Path, data_root: Path) -> str:
    try:
        return str(path.relative_to(data_root))
    except ValueError:
        return str(path)


def score_rows(samples: list[Sample], model_dir: Path | None, data_root: Path) -> list[dict[str, object]]:
    """One row per sample (`COLUMNS`)."""
    from evaluation.external import given_type_malignant, score_served
    from inference.engine import get_classifier

    classifier = get_classifier(model_dir)
    outputs = score_served(samples, model_dir)
    probabilities = outputs["probabilities"]
    clinical = outputs["clinical_probability"]
    detects = classifier.detects_photo_type
    detected = np.where(clinical >= 0.5, "clinical", "dermoscopy") if detects else np.array([""] * len(samples))
    given = given_type_malignant(samples, outputs, model_dir)
    rows = []
    for i, s in enumerate(samples):
        row: dict[str, object] = {
            "model_version": classifier.version,
            "source": s.source,
            "split": s.split,
            "path": _relative(s.path, data_root),
            "dx": s.dx,
            "malignant": int(s.malignant),
            "photo_type": s.photo_type,
            "assessable": int(outputs["assessable"][i]),
            "clinical_probability": "" if np.isnan(clinical[i]) else f"{clinical[i]:.5f}",
            "detected_type": detected[i],
        }
        row |= {f"p_{c}": f"{probabilities[i, k]:.6f}" for k, c in enumerate(CLASSES)}
        row["malignant_probability"] = f"{probabilities[i, MALIGNANT_INDEX].sum():.6f}"
        row["malignant_probability_given_type"] = f"{given[i]:.6f}"
        rows.append(row)
    return rows


SKLESION_VERSION = "sklesion-0.2.2"


def sklesion_rows(samples: list[Sample], data_root: Path) -> list[dict[str, object]]:
    """The reference's rows (`COLUMNS`), fed as `evaluation.external.score_sklesion` feeds it (its own
    preprocessing, the metadata the source has): no photo type and no refusal, so every photo is assessable
    and both malignant columns are the same."""
    from evaluation.external import score_sklesion

    probabilities = score_sklesion(samples)
    if probabilities is None:
        raise SystemExit("sklesion is not installed")
    rows = []
    for i, s in enumerate(samples):
        malignant = f"{probabilities[i, MALIGNANT_INDEX].sum():.6f}"
        row: dict[str, object] = {
            "model_version": SKLESION_VERSION,
            "source": s.source,
            "split": s.split,
            "path": _relative(s.path, data_root),
            "dx": s.dx,
            "malignant": int(s.malignant),
            "photo_type": s.photo_type,
            "assessable": 1,
            "clinical_probability": "",
            "detected_type": "",
        }
        row |= {f"p_{c}": f"{probabilities[i, k]:.6f}" for k, c in enumerate(CLASSES)}
        rows.append(row | {"malignant_probability": malignant, "malignant_probability_given_type": malignant})
    return rows


def read_scores(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV written by this module."""
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="model folder (default: MODEL_DIR or bundled)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "validation_scores.csv")
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA)
    parser.add_argument("--parts", default="val", help="comma-separated splits (val; test adds HAM10000's test split)")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--sklesion", action="store_true", help="score the sklesion reference instead of a model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parts, sources = set(args.parts.split(",")), args.sources.split(",")
    samples = load_samples(args.data_root)
    rows: list[dict[str, object]] = []
    for source in sources:
        chosen = [s for s in samples if s.source == source and s.split in parts]
        logger.info("Scoring %s (%d photos)", source, len(chosen))
        if args.sklesion:
            rows += sklesion_rows(chosen, args.data_root)
        else:
            rows += score_rows(chosen, args.model_dir, args.data_root)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    logger.info("Wrote %d rows to %s", len(rows), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
