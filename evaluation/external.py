"""The served pipeline, source by source: `reports/external.{md,json}` and one ROC figure per source.

CLI (part of `make evaluate`):

    python -m evaluation.external [--model-dir inference/model] [--out reports]

Scores the model exactly as the worker serves it (the engine's runtime, the card's views, the
not-assessable check, the photo type it detects) on the *validation* part of every external set
(`training.sources`: split by patient or lesion, never seen in training) and on the HAM10000 test
split. Metadata is blank, as it is for most real photos (no age or sex given; dermoscopy sets have
none). Per source: malignant ROC AUC, sensitivity at 80 % and 90 % specificity, balanced accuracy
over the classes the source has, malignant-probability calibration error, the share refused as not
assessable among benign and among malignant lesions, and how often the photo type was right.
`sklesion` (the reference, if installed) is scored on the same images.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from training.contract import CLASSES, MALIGNANT_CLASSES, open_image, prepare_image
from training.source_metrics import source_metrics
from training.sources import EXTERNAL_SOURCES, SHARED_DATA, Sample, load_samples

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
MALIGNANT_INDEX = [CLASSES.index(c) for c in MALIGNANT_CLASSES]
BATCH = 32
# The sets, in report order: (name, source, split).
SETS: tuple[tuple[str, str, str], ...] = (
    ("ham10000 test", "ham10000", "test"),
    *((f"{source} val", source, "val") for source in EXTERNAL_SOURCES),
)


def evaluation_sets(data_root: Path = SHARED_DATA) -> dict[str, list[Sample]]:
    """The images of each set in `SETS`."""
    samples = load_samples(data_root)
    return {name: [s for s in samples if s.source == source and s.split == split] for name, source, split in SETS}


def score_served(samples: list[Sample], model_dir: Path | None = None) -> dict[str, np.ndarray]:
    """The served model's outputs for `samples`: probabilities, photo type, assessable (and reason), and
    the prepared model inputs (`images`, uint8), for scoring them again without decoding."""
    from inference.engine import get_classifier

    classifier = get_classifier(model_dir)
    probabilities, clinical, assessable, reasons, prepared = [], [], [], [], []
    for start in range(0, len(samples), BATCH):
        chunk = samples[start : start + BATCH]
        images = [open_image(s.path, classifier.input_size) for s in chunk]
        batch = np.stack([prepare_image(image, classifier.input_size) for image in images])
        prepared.append(batch)
        scores = classifier.scores(batch.astype(np.float32))
        probabilities.append(scores.probabilities)
        clinical.append(scores.clinical_probability)
        for index, image in enumerate(images):
            verdict = classifier.assessment(
                image, classifier.refusal(scores.feature_distance[index], scores.no_lesion_probability[index])
            )
            assessable.append(verdict.ok)
            reasons.append(verdict.reason)
    return {
        "probabilities": np.concatenate(probabilities),
        "clinical_probability": np.concatenate(clinical),
        "assessable": np.array(assessable, dtype=bool),
        "reasons": np.array(reasons, dtype=object),
        "images": np.concatenate(prepared),
    }


def given_type_malignant(samples: list[Sample], outputs: dict[str, np.ndarray], model_dir: Path | None) -> np.ndarray:
    """The malignant probability of each photo when its true photo type is given (as the phone capture flow
    asks), from `score_served`'s outputs: scored again only where the detected type was wrong."""
    from inference.engine import Context, get_classifier

    classifier = get_classifier(model_dir)
    malignant = outputs["probabilities"][:, MALIGNANT_INDEX].sum(axis=1)
    if not classifier.detects_photo_type:
        return malignant
    detected = np.where(outputs["clinical_probability"] >= 0.5, "clinical", "dermoscopy")
    wrong = [i for i, s in enumerate(samples) if detected[i] != s.photo_type]
    for start in range(0, len(wrong), BATCH):
        chunk = wrong[start : start + BATCH]
        contexts: list[Context | None] = [Context(photo_type=samples[i].photo_type) for i in chunk]
        scores = classifier.scores(outputs["images"][chunk].astype(np.float32), contexts)
        malignant[chunk] = scores.probabilities[:, MALIGNANT_INDEX].sum(axis=1)
    return malignant


def advice_shares(
    samples: list[Sample], outputs: dict[str, np.ndarray], given: np.ndarray, card: dict
) -> dict[str, dict[str, float | int | None]]:
    """The advice the worker gives each assessable photo (`inference.advice.advice_for`, the card's points
    for the photo type scored): the share of malignant photos told medium or high, and of benign ones told
    low, with the type detected and with the true type given."""
    from inference.advice import advice_for

    malignant = np.array([s.malignant for s in samples])
    ok = outputs["assessable"]
    detected = np.where(outputs["clinical_probability"] >= 0.5, "clinical", "dermoscopy")
    scenarios = {
        "type detected": (outputs["probabilities"][:, MALIGNANT_INDEX].sum(axis=1), detected),
        "type given": (given, np.array([s.photo_type for s in samples])),
    }
    out: dict[str, dict[str, float | int | None]] = {}
    for name, (probability, types) in scenarios.items():
        bands = np.array(
            [
                advice_for(malignant_probability=float(p), card=card, photo_type=str(t))["band"]
                for p, t in zip(probability, types, strict=True)
            ]
        )
        warned = np.isin(bands, ("medium", "high"))
        out[name] = {
            "n_malignant": int((malignant & ok).sum()),
            "n_benign": int((~malignant & ok).sum()),
            "malignant_medium_or_high": float(warned[malignant & ok].mean()) if (malignant & ok).any() else None,
            "malignant_high": float((bands == "high")[malignant & ok].mean()) if (malignant & ok).any() else None,
            "benign_low": float((bands == "low")[~malignant & ok].mean()) if (~malignant & ok).any() else None,
        }
    return out


def score_sklesion(samples: list[Sample]) -> np.ndarray | None:
    """sklesion's probabilities for `samples` fed as its own `preprocess()` feeds it, or None if absent."""
    try:
        import sklesion  # noqa: F401
    except ImportError:
        return None
    from training.reference import predict_sklesion_files

    return predict_sklesion_files([s.path for s in samples], [(s.age, s.sex, s.site) for s in samples])


def set_metrics(samples: list[Sample], probabilities: np.ndarray, outputs: dict | None = None) -> dict:
    """`training.source_metrics` for one set, plus (for the served model) refusals and the photo type."""
    result = source_metrics(samples, probabilities)
    if outputs is not None:
        malignant = np.array([s.malignant for s in samples])
        ok = outputs["assessable"]
        result["refused"] = {
            "all": float((~ok).mean()),
            "benign": float((~ok[~malignant]).mean()) if (~malignant).any() else None,
            "malignant": float((~ok[malignant]).mean()) if malignant.any() else None,
            "reasons": {r: int((outputs["reasons"] == r).sum()) for r in sorted(set(outputs["reasons"])) if r},
        }
        clinical = outputs["clinical_probability"]
        if not np.isnan(clinical).all():
            truth = np.array([s.photo_type == "clinical" for s in samples])
            result["photo_type_accuracy"] = float(((clinical >= 0.5) == truth).mean())
    return result


VIEW_COUNTS = (1, 2, 4, 8)


def views_comparison(
    samples: list[Sample], images: np.ndarray, model_dir: Path | None, counts: tuple[int, ...] = VIEW_COUNTS
) -> dict[str, dict]:
    """Malignant AUC and calibration error of the served model with each number of test-time views
    (dihedral views, logits averaged) on `images` (`score_served`'s prepared inputs): how many views
    the card should use, chosen on validation."""
    from inference.engine import get_classifier

    classifier = get_classifier(model_dir)
    served, out = classifier.views, {}
    try:
        for count in counts:
            classifier.views = count
            probabilities = np.concatenate(
                [
                    classifier.scores(images[start : start + BATCH].astype(np.float32)).probabilities
                    for start in range(0, len(images), BATCH)
                ]
            )
            metrics = source_metrics(samples, probabilities)
            out[str(count)] = {k: metrics[k] for k in ("malignant_roc_auc", "malignant_calibration_error")}
    finally:
        classifier.views = served
    return out


def _plot_roc(name: str, samples: list[Sample], curves: dict[str, np.ndarray], path: Path) -> None:
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_auc_score, roc_curve

    malignant = np.array([s.malignant for s in samples])
    fig, ax = plt.subplots(figsize=(5, 5))
    for label, probabilities in curves.items():
        score = probabilities[:, MALIGNANT_INDEX].sum(axis=1)
        fpr, tpr, _ = roc_curve(malignant, score)
        ax.plot(fpr, tpr, label=f"{label} (AUC {roc_auc_score(malignant, score):.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    for spec in (0.8, 0.9):
        ax.axvline(1 - spec, color="grey", lw=0.5)
    ax.set_xlabel("1 - specificity (benign called malignant)")
    ax.set_ylabel("sensitivity (malignant found)")
    ax.set_title(f"{name}: {int(malignant.sum())} malignant, {int((~malignant).sum())} benign")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _counts(m: dict) -> str:
    return f"{m['n_melanoma']} / {m['n_nevus']}" if "n_melanoma" in m else "n/a"


def _advice_lines(report: dict) -> list[str]:
    """What the served advice tells each set's assessable photos (`advice_shares`), if measured."""
    if not report.get("advice"):
        return []
    lines = [
        "## Advice per set (the card's band starts for the photo type scored)",
        "",
        "Each assessable photo banded as the worker bands it (`inference.advice.advice_for` with the card's "
        f"{report.get('advice_points', 'pooled operating points')}). Medium or high tells the patient to have a "
        "doctor look at it. With the type detected (nothing given) and with the true type given (the phone "
        "capture flow asks):",
        "",
        "| set | malignant | malignant told medium or high (detected / given) | malignant told high "
        "(detected / given) | benign told low (detected / given) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, a in report["advice"].items():
        d, g = a["type detected"], a["type given"]
        lines.append(
            f"| {name} | {d['n_malignant']} | {_pct(d['malignant_medium_or_high'])} / "
            f"{_pct(g['malignant_medium_or_high'])} | {_pct(d['malignant_high'])} / {_pct(g['malignant_high'])} "
            f"| {_pct(d['benign_low'])} / {_pct(g['benign_low'])} |"
        )
    return [*lines, ""]


SET_OF = {("ham10000", "test"): "ham10000 test", ("ham10000", "val"): "ham10000 val"}


def stored_comparison(paths: list[Path]) -> dict[str, dict[str, dict]]:
    """Malignant and melanoma-against-nevus AUCs per set from stored per-photo scores
    (`evaluation.validation_scores` files, one per model): `{model_version: {set: figures}}`. Besides the
    malignant probability, melanoma against nevus ranked by the melanoma-to-nevus odds the model gives
    (p_mel / (p_mel + p_nv)), which leaves the other classes' share out."""
    from sklearn.metrics import roc_auc_score

    from training.source_metrics import melanoma_vs_nevus_auc

    out: dict[str, dict[str, dict]] = {}
    for path in paths:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        version = rows[0]["model_version"]
        for source, split in dict.fromkeys((r["source"], r["split"]) for r in rows):
            part = [r for r in rows if (r["source"], r["split"]) == (source, split)]
            dx = [r["dx"] for r in part]
            malignant = np.array([r["malignant"] == "1" for r in part])
            score = np.array([float(r["malignant_probability"]) for r in part])
            mel, nv = (np.array([float(r[f"p_{c}"]) for r in part]) for c in ("mel", "nv"))
            out.setdefault(version, {})[SET_OF.get((source, split), f"{source} {split}")] = {
                "n_malignant": int(malignant.sum()),
                "n_melanoma": dx.count("mel"),
                "n_nevus": dx.count("nv"),
                "malignant_roc_auc": float(roc_auc_score(malignant, score)),
                "melanoma_vs_nevus_auc": melanoma_vs_nevus_auc(dx, score),
                "melanoma_vs_nevus_auc_mel_odds": melanoma_vs_nevus_auc(dx, mel / np.maximum(mel + nv, 1e-12)),
                "mean_on_melanomas": {
                    c: float(np.mean([float(r[f"p_{c}"]) for r in part if r["dx"] == "mel"])) for c in CLASSES
                }
                if "mel" in dx
                else None,
            }
    return out


def metrics_from_scores(path: Path, data_root: Path = SHARED_DATA) -> dict[str, dict]:
    """`source_metrics` of every set in `SETS` from stored per-photo scores (`evaluation.validation_scores`,
    e.g. sklesion's, scored on the same photos by `--sklesion`)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for name, source, split in SETS:
        part = [r for r in rows if (r["source"], r["split"]) == (source, split)]
        if part:
            samples = [Sample(source, data_root / r["path"], r["dx"], "", split) for r in part]
            probabilities = np.array([[float(r[f"p_{c}"]) for c in CLASSES] for r in part])
            out[name] = source_metrics(samples, probabilities)
    return out


def _comparison_lines(report: dict) -> list[str]:
    """Melanoma against nevus per set for each model with stored scores, if given."""
    if not report.get("comparison"):
        return []
    models = list(report["comparison"])
    sets = [
        s
        for s in next(iter(report["comparison"].values()))
        if any(report["comparison"][m].get(s, {}).get("melanoma_vs_nevus_auc") is not None for m in models)
    ]
    lines = [
        "## Melanoma against nevus, model by model (issue 20)",
        "",
        "From each model's stored per-photo scores (`reports/validation_scores*.csv`, written by "
        "`python -m evaluation.validation_scores`: our models through the same serving code, the type detected; "
        "sklesion fed as its own `preprocess()` feeds it, with the sets' age, sex and site). AUC of "
        "melanoma against melanocytic nevus ranked by the malignant probability (what the advice uses), then by "
        "the model's melanoma-to-nevus odds p(mel) / (p(mel) + p(nv)), which leaves the other classes out; and "
        "the malignant AUC:",
        "",
        "| set | melanoma / nevus | "
        + " | ".join(f"`{m}`: mel vs nv (malignant prob. / mel odds), malignant AUC" for m in models)
        + " |",
        "|---|---:|" + "---:|" * len(models),
    ]
    for name in sets:
        first = report["comparison"][models[0]][name]
        cells = []
        for m in models:
            f = report["comparison"][m].get(name, {})
            cells.append(
                f"{_fmt(f.get('melanoma_vs_nevus_auc'))} / {_fmt(f.get('melanoma_vs_nevus_auc_mel_odds'))}, "
                f"{_fmt(f.get('malignant_roc_auc'))}"
            )
        lines.append(f"| {name} | {first['n_melanoma']} / {first['n_nevus']} | " + " | ".join(cells) + " |")
    means = []
    for m in models:
        melanoma = report["comparison"][m].get("ham10000 val", {}).get("mean_on_melanomas")
        if melanoma:
            means.append(f"`{m}` " + ", ".join(f"{c} {melanoma[c]:.2f}" for c in ("mel", "nv", "bkl", "akiec", "bcc")))
    if means:
        lines += ["", "Mean probability on HAM10000 validation melanomas: " + "; ".join(means) + "."]
    return [*lines, ""]


def _views_lines(report: dict) -> list[str]:
    """The test-time views table (validation parts only), if it was measured."""
    if not report.get("views"):
        return []
    counts = list(next(iter(report["views"].values())))
    mean = {c: float(np.mean([v[c]["malignant_roc_auc"] for v in report["views"].values()])) for c in counts}
    return [
        "## Test-time views (validation parts)",
        "",
        f"The served model averages its logits over {report.get('served_views', '?')} dihedral views (rotations and "
        "mirrors). Malignant AUC / calibration error with each number of views, everything else as served; each "
        "view is one more pass of the CNN (`make bench` times them)"
        + (f"; measured by the run of {report['views_from']}, same model:" if report.get("views_from") else ":"),
        "",
        "| set | " + " | ".join(f"{c} view{'s' if c != '1' else ''}" for c in counts) + " |",
        "|---|" + "---:|" * len(counts),
        *(
            f"| {name} | "
            + " | ".join(
                f"{_fmt(v[c]['malignant_roc_auc'])} / {_fmt(v[c]['malignant_calibration_error'], 2)}" for c in counts
            )
            + " |"
            for name, v in report["views"].items()
        ),
        "| mean AUC | " + " | ".join(_fmt(mean[c]) for c in counts) + " |",
        "",
    ]


def markdown(report: dict) -> str:
    """`reports/external.md` from the JSON report."""
    lines = [
        f"# `{report['model_version']}` source by source",
        "",
        f"Generated {report['generated_at']} by `python -m evaluation.external`: the model as the worker "
        "serves it (runtime, views, not-assessable check), metadata blank (no age, sex or site). External sets: "
        "their validation part (`training/splits/external_split.csv`, split by patient or lesion, never trained "
        "on). Malignant = akiec, bcc, mel, scc.",
        "",
        "| set | photos | malignant | AUC | melanoma / nevus | AUC melanoma vs nevus | sens. @ 80 % spec. "
        "| sens. @ 90 % spec. | bal. acc. (its classes) | malignant calib. error | refused benign "
        "| refused malignant | photo type right |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in report["sets"].items():
        refused = m.get("refused", {})
        lines.append(
            f"| {name} | {m['n_images']} | {m['n_malignant']} | {_fmt(m['malignant_roc_auc'])} "
            f"| {_counts(m)} | {_fmt(m.get('melanoma_vs_nevus_auc'))} "
            f"| {_fmt(m['sensitivity_at_80_specificity'])} | {_fmt(m['sensitivity_at_90_specificity'])} "
            f"| {_fmt(m['balanced_accuracy'])} | {_fmt(m['malignant_calibration_error'])} "
            f"| {_pct(refused.get('benign'))} | {_pct(refused.get('malignant'))} "
            f"| {_pct(m.get('photo_type_accuracy'))} |"
        )
    if report.get("sklesion"):
        lines += [
            "",
            "## sklesion (reference) on the same photos",
            "",
            "sklesion 0.2.2 (PyPI, MIT; Xception + metadata, 254 px), fed as its own `preprocess()` feeds it. Its "
            "training data are unknown and probably include HAM10000 test images, so its HAM10000 figure is "
            "inflated." + (f" {report['sklesion_note']}" if report.get("sklesion_note") else ""),
            "",
            "| set | AUC | AUC melanoma vs nevus | sens. @ 80 % spec. | sens. @ 90 % spec. | bal. acc. "
            "| malignant calib. error |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, m in report["sklesion"].items():
            lines.append(
                f"| {name} | {_fmt(m['malignant_roc_auc'])} | {_fmt(m.get('melanoma_vs_nevus_auc'))} "
                f"| {_fmt(m['sensitivity_at_80_specificity'])} "
                f"| {_fmt(m['sensitivity_at_90_specificity'])} | {_fmt(m['balanced_accuracy'])} "
                f"| {_fmt(m['malignant_calibration_error'])} |"
            )
    lines += [
        "",
        "Mean malignant probability (benign / malignant lesions): "
        + "; ".join(
            f"{name} {_fmt(m['mean_malignant_probability']['benign'], 2)} / "
            f"{_fmt(m['mean_malignant_probability']['malignant'], 2)}"
            for name, m in report["sets"].items()
        )
        + ".",
        "",
        "ISIC 2017's validation part has few melanomas (see its SOURCE.md), so its AUC and sensitivities are "
        "noisy; its refusal and false-alarm figures are the solid part. The melanoma-against-nevus AUC ranks the "
        "same malignant probability over the set's melanomas and melanocytic nevi only (its dx labels).",
        "",
        *_advice_lines(report),
        *_comparison_lines(report),
        *_views_lines(report),
        "## ROC per set",
        "",
        *(f"![{name}]({file})" for name, file in report["figures"].items()),
        "",
    ]
    return "\n".join(lines)


def evaluate(
    model_dir: Path | None, out_dir: Path, data_root: Path = SHARED_DATA, reference: bool = True, views: bool = True
) -> dict:
    """Score every set, write `external.json`, `external.md` and `external_roc_<set>.png` into `out_dir`."""
    import matplotlib

    matplotlib.use("Agg")
    from inference.engine import get_classifier

    classifier = get_classifier(model_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "model_version": classifier.version,
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "metadata": "blank",
        "served_views": classifier.views,
        "advice_points": "operating_points_by_photo_type"
        if classifier.card.get("operating_points_by_photo_type")
        else "pooled operating_points",
        "sets": {},
        "figures": {},
    }
    sklesion: dict = {}
    for name, samples in evaluation_sets(data_root).items():
        logger.info("Scoring %s (%d photos)", name, len(samples))
        outputs = score_served(samples, model_dir)
        report["sets"][name] = set_metrics(samples, outputs["probabilities"], outputs)
        given = given_type_malignant(samples, outputs, model_dir)
        report.setdefault("advice", {})[name] = advice_shares(samples, outputs, given, dict(classifier.card))
        curves = {classifier.version: outputs["probabilities"]}
        reference_probs = score_sklesion(samples) if reference else None
        if reference_probs is not None:
            sklesion[name] = set_metrics(samples, reference_probs)
            curves["sklesion 0.2.2"] = reference_probs
        figure = f"external_roc_{name.replace(' ', '_')}.png"
        _plot_roc(name, samples, curves, out_dir / figure)
        report["figures"][name] = figure
        if views and name.endswith(" val"):
            report.setdefault("views", {})[name] = views_comparison(samples, outputs["images"], model_dir)
        logger.info(
            "%s: %s", name, json.dumps({k: v for k, v in report["sets"][name].items() if k != "recall_per_class"})
        )
    previous = out_dir / "external.json"
    if sklesion:
        report["sklesion"] = sklesion
    elif reference and previous.is_file():  # not installed here: keep its figures on the same photos
        earlier = json.loads(previous.read_text(encoding="utf-8"))
        if earlier.get("sklesion"):
            report["sklesion"] = earlier["sklesion"]
            report["sklesion_note"] = earlier.get("sklesion_note") or (
                f"Scored by the run of {earlier['generated_at']} on the same photos (not installed for this one)."
            )
    if not views and previous.is_file():  # keep the view counts measured for this model before
        earlier = json.loads(previous.read_text(encoding="utf-8"))
        if earlier.get("model_version") == report["model_version"] and earlier.get("views"):
            report["views"] = earlier["views"]
            report["views_from"] = earlier.get("views_from", earlier["generated_at"])
    (out_dir / "external.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out_dir / "external.md").write_text(markdown(report), encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, default=None, help="model folder (default: MODEL_DIR or bundled)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports")
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA, help="folder with ham10000*/ and external/")
    parser.add_argument("--no-reference", action="store_true", help="skip sklesion even if installed")
    parser.add_argument(
        "--compare",
        type=Path,
        nargs="*",
        default=[],
        help="stored per-photo score files (evaluation.validation_scores) whose melanoma-against-nevus AUCs to add",
    )
    parser.add_argument(
        "--sklesion-scores",
        type=Path,
        default=None,
        help="with --markdown-only: sklesion's figures from its stored per-photo scores (validation_scores --sklesion)",
    )
    parser.add_argument(
        "--markdown-only",
        action="store_true",
        help="score nothing: add --compare to --out's external.json and write external.md again",
    )
    parser.add_argument(
        "--no-views",
        action="store_true",
        help="skip the comparison of test-time view counts (keeping the one already in --out for this model)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.markdown_only:
        report = json.loads((args.out / "external.json").read_text(encoding="utf-8"))
        if args.compare:
            report["comparison"] = stored_comparison(args.compare)
        if args.sklesion_scores:
            report["sklesion"] = metrics_from_scores(args.sklesion_scores, args.data_root)
            report["sklesion_note"] = (
                f"Scored on the same photos by `python -m evaluation.validation_scores --sklesion` "
                f"(`reports/{args.sklesion_scores.name}`, {datetime.now(UTC).date().isoformat()})."
            )
        (args.out / "external.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (args.out / "external.md").write_text(markdown(report), encoding="utf-8")
        return 0
    report = evaluate(
        args.model_dir, args.out, args.data_root, reference=not args.no_reference, views=not args.no_views
    )
    for name, m in report["sets"].items():
        print(f"{name}: AUC {_fmt(m['malignant_roc_auc'])}, refused {_pct(m['refused']['all'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
