"""The advice bands' starts per photo type, chosen to hold on every validation source of that type.

CLI (after `python -m evaluation.validation_scores` wrote the served model's validation scores):

    python -m training.advice_points [--scores reports/validation_scores.csv] [--model-dir inference/model]

writes the card's `operating_points_by_photo_type` (through `training.contract.write_card`; the model's
weights and calibration are not touched). For each photo type (dermoscopy, clinical), on the assessable
validation photos of the sources of that type, with the malignant probability the worker stores when that
type is the one scored:

- **medium** starts at the highest threshold at which, on *each* source, the share of malignant photos at
  or above it has a one-sided Wilson lower bound (z = `WILSON_Z` = 1) of at least `MEDIUM_SENSITIVITY`
  (90 %). The margin is one standard error: it asks more of a small source (13 of ISIC 2017's 13
  melanomas, 16 of PH2's 16) than of a large one (HAM10000: about 92 %). A 95 % bound (z = 1.645) is out
  of reach for any source with fewer than 25 malignant photos (n / (n + z^2) < 0.9 even when all are
  found), so it would leave no threshold at all; z = 1 is the largest margin each source can meet.
- **high** starts at the lowest threshold whose specificity on the pooled benign photos of that type is
  at least `HIGH_SPECIFICITY` (90 %); each source's specificity there is recorded, since one source's
  benign lesions can score higher than another's.

Every point records, per source, sensitivity (with its lower bound) and specificity, and the type's
points quote the *worst* source's sensitivity and the pooled specificity. Numpy only; no Django.
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from training.contract import ADVICE_PHOTO_TYPES, read_card, write_card

REPO_ROOT = Path(__file__).resolve().parent.parent
MEDIUM_SENSITIVITY = 0.90
HIGH_SPECIFICITY = 0.90
WILSON_Z = 1.0
DIGITS = 4


def wilson_lower(hits: int, n: int, z: float = WILSON_Z) -> float:
    """One-sided Wilson lower bound of a proportion `hits / n` (0 when n is 0)."""
    if n == 0:
        return 0.0
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def hits_needed(n: int, sensitivity: float = MEDIUM_SENSITIVITY, z: float = WILSON_Z) -> int | None:
    """The fewest of `n` malignant photos that must be found for the lower bound to reach `sensitivity`;
    None if even all of them are not enough."""
    for hits in range(n + 1):
        if wilson_lower(hits, n, z) >= sensitivity:
            return hits
    return None


def _floor(value: float) -> float:
    return math.floor(value * 10**DIGITS) / 10**DIGITS


def _ceil(value: float) -> float:
    return math.ceil(value * 10**DIGITS) / 10**DIGITS


def medium_threshold(malignant_scores: Mapping[str, np.ndarray], z: float = WILSON_Z) -> float:
    """The highest threshold (rounded down to `DIGITS`) at which every source's malignant photos meet the
    medium rule. A source needing k hits allows any threshold up to its k-th highest score."""
    allowed = []
    for source, scores in malignant_scores.items():
        k = hits_needed(len(scores), MEDIUM_SENSITIVITY, z)
        if k is None:
            raise ValueError(f"{source}: {len(scores)} malignant photos cannot show {MEDIUM_SENSITIVITY:.0%}")
        allowed.append(float(np.sort(scores)[::-1][k - 1]) if k > 0 else 1.0)
    return _floor(min(allowed))


def high_threshold(benign_scores: np.ndarray, specificity: float = HIGH_SPECIFICITY) -> float:
    """The lowest threshold (rounded up to `DIGITS`) below which at least `specificity` of `benign_scores` lie."""
    ordered = np.sort(benign_scores)
    k = math.ceil(specificity * len(ordered))  # that many must score below the threshold
    return min(1.0, _ceil(float(np.nextafter(ordered[k - 1], np.inf)))) if k else 0.0


def point(threshold: float, malignant: Mapping[str, np.ndarray], benign: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """A band start with its per-source figures; `sensitivity` is the worst source's, `specificity` the
    pooled benign photos'."""
    sources: dict[str, dict[str, Any]] = {}
    for source in sorted(set(malignant) | set(benign)):
        mal, ben = malignant.get(source, np.empty(0)), benign.get(source, np.empty(0))
        hits = int((mal >= threshold).sum())
        sources[source] = {
            "n_malignant": len(mal),
            "n_benign": len(ben),
            "sensitivity": round(hits / len(mal), DIGITS) if len(mal) else None,
            "sensitivity_lower_bound": round(wilson_lower(hits, len(mal)), DIGITS) if len(mal) else None,
            "specificity": round(float((ben < threshold).mean()), DIGITS) if len(ben) else None,
        }
    pooled_benign = np.concatenate([*benign.values(), np.empty(0)])
    return {
        "threshold": threshold,
        "sensitivity": min(s["sensitivity"] for s in sources.values() if s["sensitivity"] is not None),
        "specificity": round(float((pooled_benign < threshold).mean()), DIGITS),
        "sources": sources,
    }


def type_points(malignant: Mapping[str, np.ndarray], benign: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The medium and high band starts of one photo type from its sources' scores (the module's rule)."""
    medium = medium_threshold(malignant)
    high = high_threshold(np.concatenate(list(benign.values())))
    medium = min(medium, high)  # a model that is both: one cut-off
    return {"medium": point(medium, malignant, benign), "high": point(high, malignant, benign)}


def _by_source(rows: Sequence[Mapping[str, str]], column: str) -> tuple[dict, dict]:
    malignant: dict[str, list[float]] = {}
    benign: dict[str, list[float]] = {}
    for row in rows:
        side = malignant if row["malignant"] == "1" else benign
        side.setdefault(row["source"], []).append(float(row[column]))
    return (
        {k: np.array(v) for k, v in malignant.items()},
        {k: np.array(v) for k, v in benign.items()},
    )


def detected_type_check(rows: Sequence[Mapping[str, str]], types: Mapping[str, Any]) -> dict[str, Any]:
    """Per source, when the type is detected rather than given: the share of malignant photos at medium or
    high (each photo banded by its detected type's points) and the share of benign ones below medium."""
    out: dict[str, Any] = {}
    for source in sorted({r["source"] for r in rows}):
        mine = [r for r in rows if r["source"] == source]
        flags = [float(r["malignant_probability"]) >= types[r["detected_type"]]["medium"]["threshold"] for r in mine]
        mal = [f for f, r in zip(flags, mine, strict=True) if r["malignant"] == "1"]
        ben = [f for f, r in zip(flags, mine, strict=True) if r["malignant"] != "1"]
        out[source] = {
            "medium_or_high_sensitivity": round(sum(mal) / len(mal), DIGITS) if mal else None,
            "below_medium_specificity": round(1 - sum(ben) / len(ben), DIGITS) if ben else None,
            "photo_type_detected_right": round(
                float(np.mean([r["detected_type"] == r["photo_type"] for r in mine])), DIGITS
            ),
        }
    return out


def points_by_photo_type(rows: Sequence[Mapping[str, str]], scores_file: str = "") -> dict[str, Any]:
    """The card's `operating_points_by_photo_type` from validation-score rows (`evaluation.validation_scores`)."""
    rows = [r for r in rows if r["split"] == "val" and r["assessable"] == "1"]
    types = {}
    for photo_type in ADVICE_PHOTO_TYPES:
        mine = [r for r in rows if r["photo_type"] == photo_type]
        if mine:
            types[photo_type] = type_points(*_by_source(mine, "malignant_probability_given_type"))
    block: dict[str, Any] = {
        "data": (
            "the served model's calibrated malignant probability on the assessable photos of each source's "
            "validation part, with the photo type given (as the phone capture flow does); metadata blank"
            + (f" ({scores_file})" if scores_file else "")
        ),
        "rule": {
            "medium": f"highest threshold where every source's malignant photos at or above it have a one-sided "
            f"Wilson lower bound (z = {WILSON_Z:g}) of at least {MEDIUM_SENSITIVITY:.0%}",
            "high": f"lowest threshold with at least {HIGH_SPECIFICITY:.0%} specificity on the pooled benign "
            "photos of the type",
            "quoted": "sensitivity: the worst source's; specificity: the pooled benign photos' of the type",
        },
        "types": types,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    if all(r["detected_type"] in types for r in rows):
        block["detected_type_check"] = detected_type_check(rows, types)
    return block


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: write the block into the card of `--model-dir`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scores", type=Path, default=REPO_ROOT / "reports" / "validation_scores.csv")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "inference" / "model")
    args = parser.parse_args(argv)
    with args.scores.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    card = dict(read_card(args.model_dir))
    versions = {r.get("model_version") for r in rows} - {None}
    if versions and versions != {card["version"]}:
        raise SystemExit(f"{args.scores} holds scores of {versions}, not of {card['version']}")
    try:
        shown = str(args.scores.resolve().relative_to(REPO_ROOT))
    except ValueError:
        shown = str(args.scores)
    block = points_by_photo_type(rows, shown)
    card["operating_points_by_photo_type"] = block
    write_card(args.model_dir, card)
    for name, bands in block["types"].items():
        for band in ("medium", "high"):
            p = bands[band]
            print(
                f"{name} {band}: >= {p['threshold']}, worst-source sensitivity {p['sensitivity']}, "
                f"pooled specificity {p['specificity']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
