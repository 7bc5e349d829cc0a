"""Choose the lesion-level answer: how a lesion's recent photos combine into one band.

    python -m evaluation.lesion_answer [--data ../shared/data/ham10000] [--out reports]
        [--scores var/lesion_answer_scores.jsonl] [--orders 20]

HAM10000 lesions with two or more images (metadata.csv `lesion_id`, as `evaluation.change_study`)
are photos of one unchanged lesion. Each image is scored once by the served model as the worker
scores an upload (`inference.engine.Classifier`, photo type "dermoscopy", with the age, sex and body
site the metadata gives, as a patient's account and lesion would), and refused as the worker
refuses a photo that is not assessable. The scores are cached in `--scores` (JSON lines), so a
second run only recomputes the study.

HAM10000 gives no dates, so each lesion's photos are taken in `--orders` seeded random orders, as a
patient's series would arrive one photo at a time. For each candidate rule (the latest photo alone;
the mean probability, mean logit, median or maximum of the last k assessable photos), the study
measures:

- the flip rate: the share of consecutive photos after which the shown band changes;
- the disagreement of the single-photo band with the lesion-level band on the same photo;
- sensitivity: the share of answers on malignant lesions (akiec, bcc, mel) at "medium" or above and
  at "high"; and how often the rule talks a malignant lesion down below its latest photo's band;
- the share of answers on benign lesions at "high" (a needless urgent visit);
- a real change: benign series followed by a malignant lesion's photos (a spliced series, as if the
  lesion turned), with the reset at a measured change of the malignant probability
  (`measurement.thresholds`): whether the first changed photo's answer reaches its own band.

Writes reports/lesion_answer.json and reports/lesion_answer.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from inference.advice import operating_bands
from measurement.thresholds import load_thresholds
from training.contract import WORK_MIN, open_image

MALIGNANT_TYPES = ("akiec", "bcc", "mel")
Rule = Callable[[Sequence[float]], float]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def rules() -> dict[str, tuple[Rule, int | None]]:
    """Candidate rules: a name -> (how the window's probabilities combine, the window: last k photos or all)."""
    candidates: dict[str, tuple[Rule, int | None]] = {"latest photo": (lambda ps: ps[-1], 1)}
    for k in (2, 3, 5, None):
        window = f"last {k}" if k else "all"
        candidates[f"mean probability, {window}"] = (lambda ps: sum(ps) / len(ps), k)
        candidates[f"mean logit, {window}"] = (lambda ps: _expit(sum(map(_logit, ps)) / len(ps)), k)
        candidates[f"median, {window}"] = (lambda ps: statistics.median(ps), k)
        candidates[f"max, {window}"] = (lambda ps: max(ps), k)
    return candidates


def band_of(p: float, cuts: dict[str, float]) -> int:
    """0 low, 1 medium, 2 high."""
    return 2 if p >= cuts["high"] else 1 if p >= cuts["medium"] else 0


def score_images(data: Path, lesions: dict[str, list[dict[str, str]]], cache: Path, model_dir: Path | None) -> None:
    """Score every image of the lesions not yet in `cache`, appending one JSON line per image."""
    done = set()
    if cache.exists():
        done = {json.loads(line)["image_id"] for line in cache.read_text(encoding="utf-8").splitlines() if line}
    todo = [row for rows in lesions.values() for row in rows if row["image_id"] not in done]
    if not todo:
        return
    from inference.engine import Context, get_classifier  # imports TensorFlow, so only now

    classifier = get_classifier(model_dir)
    cache.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with open(cache, "a", encoding="utf-8") as out:
        for start in range(0, len(todo), 8):
            batch = todo[start : start + 8]
            images = [
                open_image(data / "images" / f"{r['image_id']}.jpg", max(classifier.input_size, WORK_MIN))
                for r in batch
            ]
            contexts: list[Context | None] = [
                Context(
                    age=float(r["age"]) if r["age"] else None,
                    sex=r["sex"] if r["sex"] in ("female", "male") else None,
                    site=r["localization"] if r["localization"] not in ("", "unknown") else None,
                    photo_type="dermoscopy",
                )
                for r in batch
            ]
            for row, image, prediction in zip(batch, images, classifier.predict_batch(images, contexts), strict=True):
                verdict = classifier.assessment(image, prediction.refusal)
                record = {
                    "image_id": row["image_id"],
                    "lesion_id": row["lesion_id"],
                    "dx": row["dx"],
                    "malignant_probability": prediction.malignant_probability,
                    "predicted_class": prediction.predicted_class,
                    "model_version": prediction.model_version,
                    "assessable": verdict.ok,
                    "reason": verdict.reason,
                }
                out.write(json.dumps(record) + "\n")
            out.flush()
            if (start // 8) % 50 == 0:
                print(f"{start + len(batch)}/{len(todo)} images, {time.time() - started:.0f} s", file=sys.stderr)


def answers(probabilities: Sequence[float], rule: Rule, window: int | None, resets: Sequence[bool] = ()) -> list[float]:
    """The combined probability after each photo: `rule` over the last `window` photos since the last reset."""
    combined, start = [], 0
    for t in range(len(probabilities)):
        if t < len(resets) and resets[t]:
            start = t
        recent = probabilities[start : t + 1]
        combined.append(rule(recent[-window:] if window else recent))
    return combined


def _share(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def rule_measures(
    series: list[tuple[bool, list[float]]], rule: Rule, window: int | None, cuts: dict[str, float]
) -> dict[str, Any]:
    """Flip rate, disagreement with single photos, sensitivity and needless "high" of one rule.

    `series`: (malignant lesion?, assessable probabilities in the order taken), one per lesion and order.
    """
    counts: dict[str, int] = defaultdict(int)
    for malignant, probabilities in series:
        single = [band_of(p, cuts) for p in probabilities]
        combined = [band_of(p, cuts) for p in answers(probabilities, rule, window)]
        for t in range(1, len(probabilities)):
            counts["steps"] += 1
            counts["flips"] += combined[t] != combined[t - 1]
            counts["single_flips"] += single[t] != single[t - 1]
            counts["disagree"] += combined[t] != single[t]
        group = "malignant" if malignant else "benign"
        counts[f"{group}_answers"] += len(combined)
        counts[f"{group}_medium_or_high"] += sum(b >= 1 for b in combined)
        counts[f"{group}_high"] += sum(b == 2 for b in combined)
        counts[f"{group}_below_latest_photo"] += sum(b < s for b, s in zip(combined, single, strict=True))
        counts[f"{group}_lesions"] += 1
        counts[f"{group}_final_medium_or_high"] += combined[-1] >= 1
        counts[f"{group}_final_high"] += combined[-1] == 2
    result: dict[str, Any] = {
        "flip_rate": _share(counts["flips"], counts["steps"]),
        "single_photo_flip_rate": _share(counts["single_flips"], counts["steps"]),
        "disagreement_with_single_photo": _share(counts["disagree"], counts["steps"]),
        "steps": counts["steps"],
    }
    for group in ("malignant", "benign"):
        n, lesions = counts[f"{group}_answers"], counts[f"{group}_lesions"]
        result[group] = {
            "answers": n,
            "medium_or_high": _share(counts[f"{group}_medium_or_high"], n),
            "high": _share(counts[f"{group}_high"], n),
            "below_latest_photo": _share(counts[f"{group}_below_latest_photo"], n),
            "final_medium_or_high": _share(counts[f"{group}_final_medium_or_high"], lesions),
            "final_high": _share(counts[f"{group}_final_high"], lesions),
        }
    return result


def spliced_change(
    benign: list[list[float]],
    malignant: list[list[float]],
    rule: Rule,
    window: int | None,
    cuts: dict[str, float],
    threshold: float,
    rng: random.Random,
) -> dict[str, Any]:
    """A real change: a benign lesion's photos, then a malignant lesion's, as if the lesion turned.

    A change is measured when the malignant probability rises by more than `threshold` from the
    previous photo (the served rule also uses the outline's measures, not simulated here); with
    `reset` the answer then starts again from the changed photo. Counts how often the answer at the
    first changed photo is at least that photo's own band, with and without the reset.
    """
    counts: dict[str, int] = defaultdict(int)
    for later in malignant:
        earlier = rng.choice(benign)
        probabilities = earlier + later
        turn = len(earlier)
        single = band_of(probabilities[turn], cuts)
        if single == 0:
            continue
        counts["series"] += 1
        measured = probabilities[turn] - probabilities[turn - 1] > threshold
        counts["measured"] += measured
        resets = [False] * len(probabilities)
        resets[turn] = measured
        for name, flags in (("without_reset", ()), ("with_reset", resets)):
            band = band_of(answers(probabilities, rule, window, flags)[turn], cuts)
            counts[f"{name}_reaches_photo_band"] += band >= single
            counts[f"{name}_reaches_photo_band_when_measured"] += measured and band >= single
    return {
        "series": counts["series"],
        "change_measured": _share(counts["measured"], counts["series"]),
        "reaches_photo_band_without_reset": _share(counts["without_reset_reaches_photo_band"], counts["series"]),
        "reaches_photo_band_with_reset": _share(counts["with_reset_reaches_photo_band"], counts["series"]),
        "reaches_photo_band_when_measured_without_reset": _share(
            counts["without_reset_reaches_photo_band_when_measured"], counts["measured"]
        ),
        "reaches_photo_band_when_measured_with_reset": _share(
            counts["with_reset_reaches_photo_band_when_measured"], counts["measured"]
        ),
    }


# Rules whose flip rates differ by less than this are equally stable: the shorter window is chosen,
# since older photos then drop out of the answer sooner.
FLIP_TOLERANCE = 0.005


def choose_rule(measures: dict[str, dict[str, Any]], windows: dict[str, int | None]) -> str:
    """Among the safe rules, those within FLIP_TOLERANCE of the fewest flips; of these, the shortest
    window, then the fewest benign answers at "high".

    Safe: never lowers sensitivity below the latest photo alone's (share of malignant answers at
    "medium" or above, and at "high"), and never answers a malignant lesion below its latest photo's
    own band: a patient who photographs a melanoma is never told less than that photo says. Without
    the second condition the choice between a mean and the highest turned on a tenth of a point of
    flip rate, and changed with the rounding of the cached scores."""
    single = measures["latest photo"]["malignant"]
    safe = [
        name
        for name, m in measures.items()
        if m["malignant"]["medium_or_high"] >= single["medium_or_high"]
        and m["malignant"]["high"] >= single["high"]
        and m["malignant"]["below_latest_photo"] == 0.0
    ]
    fewest = min(measures[name]["flip_rate"] for name in safe)
    stable = [name for name in safe if measures[name]["flip_rate"] <= fewest + FLIP_TOLERANCE]
    return min(stable, key=lambda name: (windows[name] or math.inf, measures[name]["benign"]["high"]))


def study(args: argparse.Namespace, lesions: dict[str, list[dict[str, str]]]) -> int:
    from training.contract import read_card

    scores = {}
    for line in args.scores.read_text(encoding="utf-8").splitlines():
        if line:
            record = json.loads(line)
            scores[record["image_id"]] = record
    model_dir = args.model_dir or Path(__file__).resolve().parent.parent / "inference" / "model"
    card = read_card(model_dir)
    bands = operating_bands(card, "dermoscopy")  # HAM10000 photos are dermoscopy, as scored
    assert bands is not None, "the served model's card has no operating points"
    cuts = {band: point["threshold"] for band, point in bands.items()}
    threshold = load_thresholds().malignant_probability or math.inf

    # Per lesion: the assessable photos' probabilities, as the app would have them.
    per_lesion: dict[str, tuple[bool, list[float]]] = {}
    refused = 0
    for lesion, rows in lesions.items():
        kept = [scores[r["image_id"]] for r in rows if r["image_id"] in scores]
        refused += sum(not s["assessable"] for s in kept)
        probabilities = [s["malignant_probability"] for s in kept if s["assessable"]]
        if len(probabilities) >= 2:
            per_lesion[lesion] = (rows[0]["dx"] in MALIGNANT_TYPES, probabilities)

    # The spread of one lesion's photos: standard deviation and range of the probability and its logit.
    spreads = [statistics.pstdev(ps) for _, ps in per_lesion.values()]
    logit_spreads = [statistics.pstdev([_logit(p) for p in ps]) for _, ps in per_lesion.values()]
    ranges = [max(ps) - min(ps) for _, ps in per_lesion.values()]
    crossing = sum(len({band_of(p, cuts) for p in ps}) > 1 for _, ps in per_lesion.values())

    def quantiles(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {
            f"q{q}": round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 4) for q in (50, 75, 90, 95)
        }

    rng = random.Random(args.seed)
    series = []
    for _ in range(args.orders):
        for malignant, probabilities in per_lesion.values():
            ordered = list(probabilities)
            rng.shuffle(ordered)
            series.append((malignant, ordered))
    measures = {name: rule_measures(series, rule, window, cuts) for name, (rule, window) in rules().items()}
    # Most lesions have two photos, where every window is the same: the windows differ only on longer series.
    longer = [(malignant, ps) for malignant, ps in series if len(ps) >= 3]
    measures_longer = {name: rule_measures(longer, rule, window, cuts) for name, (rule, window) in rules().items()}
    chosen = choose_rule(measures, {name: window for name, (_, window) in rules().items()})
    benign = [ps for malignant, ps in series if not malignant]
    malignant_series = [ps for malignant, ps in series if malignant]
    changes = {
        name: spliced_change(benign, malignant_series, rule, window, cuts, threshold, random.Random(args.seed))
        for name, (rule, window) in rules().items()
        if name in ("latest photo", chosen, "mean logit, last 3", "mean probability, last 3", "median, last 3")
    }
    model_version = next(iter(scores.values()))["model_version"] if scores else None
    report = {
        "study": "python -m evaluation.lesion_answer",
        "data": args.data.name,
        "parts": args.parts or "all (train, val, test)",
        "name": args.name,
        "command": " ".join(
            ["python -m evaluation.lesion_answer --data ../shared/data/ham10000 --out reports"]
            + ([f"--parts {args.parts}", f"--name {args.name}"] if args.parts else [])
        ),
        "model_version": model_version,
        "context": "photo type dermoscopy; age, sex and body site from the metadata",
        "band_cuts": cuts,
        "change_threshold_malignant_probability": threshold,
        "lesions": len(per_lesion),
        "malignant_lesions": sum(m for m, _ in per_lesion.values()),
        "photos": sum(len(ps) for _, ps in per_lesion.values()),
        "photos_not_assessable": refused,
        "orders": args.orders,
        "spread": {
            "sd_probability": quantiles(spreads),
            "sd_logit": quantiles(logit_spreads),
            "range_probability": quantiles(ranges),
            "lesions_whose_photos_span_two_or_more_bands": _share(crossing, len(per_lesion)),
        },
        "rules": measures,
        "lesions_with_three_or_more_photos": sum(len(ps) >= 3 for _, ps in per_lesion.values()),
        "rules_on_three_or_more_photos": measures_longer,
        "chosen": chosen,
        "real_change": changes,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / f"{args.name}.md").write_text(markdown(report), encoding="utf-8")
    print(json.dumps({name: m["flip_rate"] for name, m in measures.items()}, indent=2))
    print(f"chosen: {chosen}")
    return 0


def markdown(report: dict[str, Any]) -> str:
    """The committed report, from the JSON's numbers."""
    rows = []
    for name, m in report["rules"].items():
        mal, ben = m["malignant"], m["benign"]
        rows.append(
            f"| {name}{' (chosen)' if name == report['chosen'] else ''} | {m['flip_rate']:.1%} | "
            f"{m['disagreement_with_single_photo']:.1%} | {mal['medium_or_high']:.1%} | {mal['high']:.1%} | "
            f"{mal['below_latest_photo']:.1%} | {ben['high']:.1%} | {ben['medium_or_high']:.1%} |"
        )
    change_rows = [
        f"| {name} | {c['series']} | {c['change_measured']:.1%} | {c['reaches_photo_band_without_reset']:.1%} | "
        f"{c['reaches_photo_band_with_reset']:.1%} | "
        f"{c['reaches_photo_band_when_measured_with_reset'] or 0:.1%} |"
        for name, c in report["real_change"].items()
    ]
    spread = report["spread"]
    talked_down = min(
        m["malignant"]["below_latest_photo"]
        for name, m in report["rules"].items()
        if name.startswith(("mean", "median"))
    )
    single = report["rules"]["latest photo"]
    chosen = report["rules"][report["chosen"]]
    return "\n".join(
        [
            "# The lesion-level answer: one band per lesion, not per photo",
            "",
            "```",
            report["command"],
            "```",
            f"(raw numbers: `{report['name']}.json`; scores cached in `var/lesion_answer_scores.jsonl`).",
            "",
            "## Data",
            "",
            f"HAM10000 (`{report['data']}`) lesions with two or more images (`lesion_id`) in the model's "
            f"split parts {report['parts']}, photos of one "
            f"unchanged lesion: **{report['lesions']} lesions** with two or more assessable photos "
            f"({report['malignant_lesions']} malignant: akiec, bcc, mel), {report['photos']} photos; "
            f"{report['photos_not_assessable']} photos refused as not assessable are left out, as in the app. "
            f"Scored by the served model **`{report['model_version']}`** as the worker scores an upload "
            f"({report['context']}). Bands from the model card's operating points for dermoscopy photos: medium from "
            f"{report['band_cuts']['medium']}, high from {report['band_cuts']['high']} "
            "(`inference/advice.py`). HAM10000 has no dates, so each lesion's photos are taken in "
            f"{report['orders']} seeded random orders, one photo at a time.",
            "",
            "## The spread of one lesion's photos",
            "",
            "| per lesion | median | q75 | q90 | q95 |",
            "|---|---|---|---|---|",
            *(
                f"| {label} | " + " | ".join(str(spread[key][q]) for q in ("q50", "q75", "q90", "q95")) + " |"
                for key, label in (
                    ("sd_probability", "SD of the malignant probability"),
                    ("range_probability", "range (max - min) of the malignant probability"),
                    ("sd_logit", "SD of its logit"),
                )
            ),
            "",
            f"**{spread['lesions_whose_photos_span_two_or_more_bands']:.1%}** of these unchanged lesions have "
            "photos in two or more bands: a patient reading one photo at a time would see the advice change.",
            "",
            "## Rules compared",
            "",
            "Flip: the band shown after a photo differs from the band shown after the previous photo. "
            "Disagreement: the lesion-level band differs from that photo's own band. Malignant "
            'answers: every answer shown on a malignant lesion (after each photo); "below the latest '
            "photo\": the answer is lower than the latest photo's own band. Benign high: answers on "
            "benign lesions in the high band.",
            "",
            "| rule | flip rate | disagrees with the photo | malignant: medium or high | malignant: high | "
            "malignant: below the latest photo | benign: high | benign: medium or high |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"**Single photos flip on {single['flip_rate']:.1%} of consecutive photos of an unchanged lesion; "
            f'the chosen rule, "{report["chosen"]}", on {chosen["flip_rate"]:.1%}.** Chosen as the rule that '
            "flips least (within half a percentage point, then the shortest window) among those whose share of "
            "malignant answers at medium or above, and at high, is at least the latest photo's alone, and that "
            "never answer a malignant lesion below its latest photo's own band. Every "
            "mean or median talks some malignant answers down below the latest photo's own band "
            f"({talked_down:.1%} or more of their malignant answers); the highest never does. "
            "Its cost: more benign answers in the high band "
            f"({chosen['benign']['high']:.1%} against {single['benign']['high']:.1%} for single photos), "
            "a visit to a doctor that was not needed, rather than a malignant lesion talked down.",
            "",
            f"On the {report['lesions_with_three_or_more_photos']} lesions with three or more photos (where the "
            "windows differ):",
            "",
            "| rule | flip rate | malignant: medium or high | malignant: high | malignant: below the latest photo "
            "| benign: high |",
            "|---|---|---|---|---|---|",
            *(
                f"| {name} | {m['flip_rate']:.1%} | {m['malignant']['medium_or_high']:.1%} | "
                f"{m['malignant']['high']:.1%} | {m['malignant']['below_latest_photo']:.1%} | "
                f"{m['benign']['high']:.1%} |"
                for name, m in report["rules_on_three_or_more_photos"].items()
            ),
            "",
            "## A real change still moves it",
            "",
            "A benign lesion's photos followed by a malignant lesion's (as if the lesion turned), for the "
            "malignant photos whose own band is medium or high. A change is measured when the malignant "
            f"probability rises by more than {report['change_threshold_malignant_probability']} "
            "(`measurement/thresholds.json`; the served rule also uses the outline's measures, not simulated "
            "here), and the lesion-level answer then starts again from the changed photo. In the app the "
            "changed photo's advice is also raised by one band.",
            "",
            "| rule | series | change measured | answer reaches the photo's band, no reset | with the reset | "
            "with the reset, when measured |",
            "|---|---|---|---|---|---|",
            *change_rows,
            "",
        ]
    )


def read_lesions(data: Path) -> dict[str, list[dict[str, str]]]:
    """HAM10000 metadata rows per lesion, for the lesions with two or more images."""
    with open(data / "metadata.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    lesions: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        lesions[row["lesion_id"]].append(row)
    return {lesion: sorted(rows, key=lambda r: r["image_id"]) for lesion, rows in lesions.items() if len(rows) >= 2}


def in_parts(lesions: dict[str, list[dict[str, str]]], parts: set[str]) -> dict[str, list[dict[str, str]]]:
    """The lesions the model's HAM10000 split puts in `parts` (train, val, test); it splits by lesion."""
    from training.data import DEFAULT_SPLIT_FILE, read_split

    part_of = {row.lesion_id: row.split for row in read_split(DEFAULT_SPLIT_FILE)}
    return {lesion: rows for lesion, rows in lesions.items() if part_of.get(lesion) in parts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.lesion_answer", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/ham10000"))
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--scores", type=Path, default=Path("var/lesion_answer_scores.jsonl"))
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--orders", type=int, default=20, help="seeded random orders of each lesion's photos")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--score-only", action="store_true", help="score the images, skip the study")
    parser.add_argument("--no-score", action="store_true", help="the study on the images scored so far")
    parser.add_argument(
        "--parts",
        default="",
        help="only the lesions in these parts of the model's split, e.g. val,test (the lesions it never trained on)",
    )
    parser.add_argument("--name", default="lesion_answer", help="the report's file name, without .md/.json")
    args = parser.parse_args(argv)

    lesions = read_lesions(args.data)
    if args.parts:
        lesions = in_parts(lesions, set(args.parts.split(",")))
    print(f"{len(lesions)} lesions, {sum(map(len, lesions.values()))} images", file=sys.stderr, flush=True)
    if not args.no_score:
        score_images(args.data, lesions, args.scores, args.model_dir)
    if args.score_only:
        return 0
    return study(args, lesions)


if __name__ == "__main__":
    sys.exit(main())
