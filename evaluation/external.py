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
        "view is one more pass of the CNN (`make bench` times them):",
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
        "| set | photos | malignant | AUC | sens. @ 80 % spec. | sens. @ 90 % spec. | bal. acc. (its classes) "
        "| malignant calib. error | refused benign | refused malignant | photo type right |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in report["sets"].items():
        refused = m.get("refused", {})
        lines.append(
            f"| {name} | {m['n_images']} | {m['n_malignant']} | {_fmt(m['malignant_roc_auc'])} "
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
            "inflated.",
            "",
            "| set | AUC | sens. @ 80 % spec. | sens. @ 90 % spec. | bal. acc. | malignant calib. error |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, m in report["sklesion"].items():
            lines.append(
                f"| {name} | {_fmt(m['malignant_roc_auc'])} | {_fmt(m['sensitivity_at_80_specificity'])} "
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
        "noisy; its refusal and false-alarm figures are the solid part.",
        "",
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
        "sets": {},
        "figures": {},
    }
    sklesion: dict = {}
    for name, samples in evaluation_sets(data_root).items():
        logger.info("Scoring %s (%d photos)", name, len(samples))
        outputs = score_served(samples, model_dir)
        report["sets"][name] = set_metrics(samples, outputs["probabilities"], outputs)
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
    if sklesion:
        report["sklesion"] = sklesion
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
    parser.add_argument("--no-views", action="store_true", help="skip the comparison of test-time view counts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    report = evaluate(
        args.model_dir, args.out, args.data_root, reference=not args.no_reference, views=not args.no_views
    )
    for name, m in report["sets"].items():
        print(f"{name}: AUC {_fmt(m['malignant_roc_auc'])}, refused {_pct(m['refused']['all'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
