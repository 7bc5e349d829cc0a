"""Measure the variation between photos of unchanged lesions and set the change thresholds.

    python -m evaluation.change_study --data ../shared/data/ham10000 --out reports \\
        [--probabilities var/pair_probs.jsonl] [--max-lesions N] [--workers 2]

HAM10000 lesions with two or more images (metadata.csv `lesion_id`: several views at one visit,
or follow-up images of nevi judged unchanged) give same-lesion pairs. Every image is outlined,
measured and described by keypoints once; every pair is aligned and compared. The lesions are
split in two halves: on the calibration half one common per-measure exceedance level is chosen so
that at most `--target` of the pairs exceed any threshold (the union, not each measure); the
validation half then measures the false-alarm rate of those thresholds on lesions not used to
choose them. Writes reports/change_detection.json and measurement/thresholds.json.

`--probabilities` holds the served model's outputs for those images: the JSON lines of
`python -m evaluation.predict --json` (how reports/change_detection.md makes them) or a CSV
`image_id,malignant_probability`; with it a threshold for the change in malignant probability is
calibrated together with the others.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from measurement.alignment import PhotoFeatures, align_features, photo_features
from measurement.measures import LesionMeasures, measure_lesion, relative_area
from measurement.segmentation import segment_lesion
from measurement.thresholds import AREA, ASYMMETRY, BORDER, COLOURS, MALIGNANT, THRESHOLDS_FILE

ALPHAS = [a / 1000 for a in range(50, 0, -1)]  # per-measure exceedance levels tried, largest first


@dataclass
class PhotoResult:
    image_id: str
    lesion_id: str
    measures: LesionMeasures | None
    reason: str | None
    features: PhotoFeatures
    seconds: dict[str, float]


def _analyse(job: tuple[str, str, str]) -> PhotoResult:
    path, image_id, lesion_id = job
    with Image.open(path) as opened:
        image = np.asarray(opened.convert("RGB"))
    started = time.perf_counter()
    outline = segment_lesion(image)
    segmented = time.perf_counter()
    measures = measure_lesion(image, outline.mask) if outline.ok else None
    measured = time.perf_counter()
    features = photo_features(image)
    described = time.perf_counter()
    seconds = {"segmentation": segmented - started, "measures": measured - segmented, "keypoints": described - measured}
    return PhotoResult(image_id, lesion_id, measures, outline.reason, features, seconds)


def pair_differences(
    a: PhotoResult, b: PhotoResult, probabilities: dict[str, float]
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """Order-free differences of one same-lesion pair (None: not measurable) and alignment facts."""
    started = time.perf_counter()
    alignment = align_features(a.features, b.features)
    align_seconds = time.perf_counter() - started
    diffs: dict[str, float | None] = dict.fromkeys((ASYMMETRY, BORDER, COLOURS, AREA, MALIGNANT))
    if a.measures is not None and b.measures is not None:
        diffs[ASYMMETRY] = abs(b.measures.asymmetry - a.measures.asymmetry)
        diffs[BORDER] = abs(b.measures.border_irregularity - a.measures.border_irregularity)
        gained = len(set(b.measures.colours) - set(a.measures.colours))
        lost = len(set(a.measures.colours) - set(b.measures.colours))
        diffs[COLOURS] = float(max(gained, lost))  # either photo may be the later one
        if alignment.ok:
            ratio = relative_area(a.measures.area_pixels, b.measures.area_pixels, alignment.scale)
            diffs[AREA] = abs(math.log(ratio))
    if a.image_id in probabilities and b.image_id in probabilities:
        diffs[MALIGNANT] = abs(probabilities[b.image_id] - probabilities[a.image_id])
    facts = {"aligned": alignment.ok, "reason": alignment.reason, "seconds": align_seconds, "scale": alignment.scale}
    return diffs, facts


def read_probabilities(path: Path) -> tuple[dict[str, float], str | None]:
    """Malignant probability per image id, and the model version, from a CSV
    (`image_id,malignant_probability[,model_version]`) or from the JSON lines that
    `python -m evaluation.predict --json` prints (the image id is the file's stem). Images the served
    check refuses as not assessable are left out, as the app would show no probability for them."""
    probabilities: dict[str, float] = {}
    model_version = None
    with open(path, newline="", encoding="utf-8") as handle:
        if path.suffix == ".jsonl":
            for line in handle:
                row = json.loads(line)
                model_version = row.get("model_version", model_version)
                if row.get("assessable", True):
                    probabilities[Path(row["path"]).stem] = float(row["malignant_probability"])
        else:
            for row in csv.DictReader(handle):
                probabilities[row["image_id"]] = float(row["malignant_probability"])
                model_version = row.get("model_version", model_version)
    return probabilities, model_version


def _quantile_thresholds(pairs: list[dict[str, float | None]], measures: list[str], alpha: float) -> dict[str, float]:
    """Per measure, the smallest threshold that at most `alpha` of the measurable pairs exceed."""
    thresholds = {}
    for name in measures:
        values = np.array([p[name] for p in pairs if p[name] is not None], dtype=float)
        if name == COLOURS:
            # Integer: a change is `gained >= k`; the smallest k with an exceedance rate <= alpha.
            k = 1
            while values.size and (values >= k).mean() > alpha:
                k += 1
            thresholds[name] = float(k)
        else:
            thresholds[name] = float(np.quantile(values, 1.0 - alpha, method="higher")) if values.size else math.inf
    return thresholds


def _exceeds(name: str, value: float | None, threshold: float) -> bool:
    if value is None:
        return False
    return value >= threshold if name == COLOURS else value > threshold


def false_alarms(pairs: list[dict[str, float | None]], thresholds: dict[str, float]) -> dict[str, Any]:
    """Share of pairs called changed by each measure and by any of them."""
    n = len(pairs)
    per = {name: sum(_exceeds(name, p[name], t) for p in pairs) / n for name, t in thresholds.items()}
    union = sum(any(_exceeds(name, p[name], t) for name, t in thresholds.items()) for p in pairs) / n
    measurable = {name: sum(p[name] is not None for p in pairs) for name in thresholds}
    return {"pairs": n, "any": union, "per_measure": per, "measurable_pairs": measurable}


def wilson_upper(rate: float, n: int, z: float = 1.645) -> float:
    """One-sided 95% upper confidence bound of a proportion (Wilson score interval)."""
    if n == 0:
        return 1.0
    centre = rate + z * z / (2 * n)
    margin = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return (centre + margin) / (1 + z * z / n)


def choose_thresholds(
    pairs: list[dict[str, float | None]], measures: list[str], target: float, *, bound: bool = False
) -> tuple[float, dict]:
    """The largest common exceedance level whose union false-alarm rate is <= target.

    With `bound`, the 95% upper confidence bound of that rate must be <= target, so a small
    calibration set does not pick thresholds that only just pass by chance.
    """
    for alpha in ALPHAS:
        thresholds = _quantile_thresholds(pairs, measures, alpha)
        rate = false_alarms(pairs, thresholds)["any"]
        if (wilson_upper(rate, len(pairs)) if bound else rate) <= target:
            return alpha, thresholds
    return ALPHAS[-1], _quantile_thresholds(pairs, measures, ALPHAS[-1])


def _timing(values: list[float]) -> dict[str, float]:
    array = np.array(values) * 1000
    return {"median_ms": round(float(np.median(array)), 1), "p90_ms": round(float(np.quantile(array, 0.9)), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.change_study", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="HAM10000 folder (metadata.csv, images/)")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--thresholds", type=Path, default=THRESHOLDS_FILE, help="where to write the thresholds")
    parser.add_argument(
        "--probabilities",
        type=Path,
        default=None,
        help="evaluation.predict --json lines (.jsonl) or a CSV image_id,malignant_probability",
    )
    parser.add_argument("--max-lesions", type=int, default=None, help="a seeded random subset of the lesions")
    parser.add_argument("--target", type=float, default=0.05, help="largest false-alarm rate allowed (any measure)")
    parser.add_argument(
        "--calibration-target",
        type=float,
        default=None,
        help="union rate aimed at on calibration (default: its 95%% upper bound must be <= --target)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    with open(args.data / "metadata.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    images_of: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        images_of[row["lesion_id"]].append(row["image_id"])
    lesions = sorted(lesion for lesion, images in images_of.items() if len(images) >= 2)
    rng = random.Random(args.seed)
    rng.shuffle(lesions)
    if args.max_lesions:
        lesions = lesions[: args.max_lesions]
    calibration = set(lesions[: len(lesions) // 2])

    probabilities: dict[str, float] = {}
    model_version = None
    if args.probabilities:
        probabilities, model_version = read_probabilities(args.probabilities)

    jobs = [(str(args.data / "images" / f"{i}.jpg"), i, lesion) for lesion in lesions for i in images_of[lesion]]
    print(f"{len(lesions)} lesions, {len(jobs)} images", file=sys.stderr, flush=True)
    results: dict[str, PhotoResult] = {}
    started = time.time()
    with Pool(args.workers) as pool:
        for done, result in enumerate(pool.imap_unordered(_analyse, jobs, chunksize=8), 1):
            results[result.image_id] = result
            if done % 200 == 0:
                print(f"{done}/{len(jobs)} images, {time.time() - started:.0f} s", file=sys.stderr, flush=True)

    halves: dict[str, list[dict[str, float | None]]] = {"calibration": [], "validation": []}
    alignment_facts = []
    for lesion in lesions:
        for a, b in itertools.combinations(images_of[lesion], 2):
            diffs, facts = pair_differences(results[a], results[b], probabilities)
            halves["calibration" if lesion in calibration else "validation"].append(diffs)
            alignment_facts.append(facts)

    measures = [ASYMMETRY, BORDER, COLOURS, AREA] + ([MALIGNANT] if probabilities else [])
    if args.calibration_target is None:
        alpha, chosen = choose_thresholds(halves["calibration"], measures, args.target, bound=True)
    else:
        alpha, chosen = choose_thresholds(halves["calibration"], measures, args.calibration_target)
    report_rates = {half: false_alarms(pairs, chosen) for half, pairs in halves.items()}
    all_pairs = halves["calibration"] + halves["validation"]
    distributions = {
        name: {
            f"q{q}": round(float(np.quantile([p[name] for p in all_pairs if p[name] is not None], q / 100)), 4)
            for q in (50, 90, 95, 99)
        }
        for name in measures
        if any(p[name] is not None for p in all_pairs)
    }
    photos = list(results.values())
    failures: dict[str, int] = defaultdict(int)
    for photo in photos:
        failures[photo.reason or "ok"] += 1
    align_reasons: dict[str, int] = defaultdict(int)
    for facts in alignment_facts:
        align_reasons[facts["reason"] or "ok"] += 1

    validation_rate = report_rates["validation"]["any"]
    thresholds = {
        "asymmetry": round(chosen[ASYMMETRY], 4),
        "border_irregularity": round(chosen[BORDER], 4),
        "new_colours": int(chosen[COLOURS]),
        "area_ratio": round(math.exp(chosen[AREA]), 4),
        "malignant_probability": round(chosen[MALIGNANT], 4) if MALIGNANT in chosen else None,
        "provenance": {
            "study": "python -m evaluation.change_study",
            "data": args.data.name,
            "lesions": len(lesions),
            "pairs": len(all_pairs),
            "per_measure_alpha": alpha,
            "false_alarm_rate_validation": round(validation_rate, 4),
            "model_version": model_version,
        },
    }
    report = {
        "data": str(args.data),
        "lesions": len(lesions),
        "images": len(jobs),
        "pairs": {half: len(pairs) for half, pairs in halves.items()},
        "target": args.target,
        "calibration_rule": (
            f"union rate <= {args.calibration_target}"
            if args.calibration_target is not None
            else f"95% upper bound (Wilson) of the union rate <= {args.target}"
        ),
        "per_measure_alpha": alpha,
        "thresholds": thresholds,
        "false_alarms": report_rates,
        "meets_target_on_validation": validation_rate <= args.target,
        "difference_quantiles": distributions,
        "segmentation_outcomes": dict(failures),
        "alignment_outcomes": dict(align_reasons),
        "alignment_scale_quantiles": {
            f"q{q}": round(float(np.quantile([f["scale"] for f in alignment_facts if f["aligned"]], q / 100)), 3)
            for q in (5, 50, 95)
        },
        "timings_per_photo": {
            "segmentation": _timing([p.seconds["segmentation"] for p in photos]),
            "measures": _timing([p.seconds["measures"] for p in photos if p.measures is not None]),
            "keypoints": _timing([p.seconds["keypoints"] for p in photos]),
            "matching_per_pair": _timing([f["seconds"] for f in alignment_facts]),
        },
        "workers": args.workers,
        "wall_seconds": round(time.time() - started, 1),
        "model_version": model_version,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "change_detection_pairs.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["half", *measures])
        for half, pairs in halves.items():
            for pair in pairs:
                writer.writerow([half, *("" if (value := pair[m]) is None else round(value, 5) for m in measures)])
    (args.out / "change_detection.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    # The size study (evaluation.size_study) owns the millimetre growth threshold in the same file: keep it.
    if args.thresholds.exists():
        previous = json.loads(args.thresholds.read_text(encoding="utf-8"))
        thresholds.update({k: previous[k] for k in ("long_diameter_growth_mm", "size_provenance") if k in previous})
    args.thresholds.write_text(json.dumps(thresholds, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["false_alarms"], indent=2))
    return 0 if validation_rate <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
