"""Score an exported model on the held-out TEST split and write `reports/evaluation.{json,md}`.

CLI: `python -m training.evaluate --data ../shared/data/ham10000 --model inference/model --out reports`

The exported model outputs temperature-scaled probabilities. The card stores the temperature T,
so the uncalibrated probabilities are recovered exactly as softmax(T * log p) to report the
calibration error before and after scaling.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from training.contract import CLASSES, read_card
from training.data import (
    DEFAULT_DATA_DIR,
    DEFAULT_SPLIT_FILE,
    file_sha256,
    labels_of,
    load_images,
    metadata_vectors,
    read_split,
)
from training.metrics import (  # noqa: F401 - re-exported: the metrics are part of this module's API
    ECE_BINS,
    MALIGNANT_INDEX,
    binary_calibration_error,
    compute_metrics,
    expected_calibration_error,
    sensitivity_at_specificity,
    softmax,
    uncalibrated,
)
from training.scoring import (  # noqa: F401 - re-exported
    PhotoTypeDetected,
    logits_model,
    predict_arrays,
    predict_logits,
    view_outputs,
)

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _plot_confusion(matrix: np.ndarray, path: Path) -> None:
    import matplotlib.pyplot as plt

    row_share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(row_share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(CLASSES)), CLASSES)
    ax.set_yticks(range(len(CLASSES)), CLASSES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(CLASSES)):
        for j in range(len(CLASSES)):
            colour = "white" if row_share[i, j] > 0.5 else "black"
            ax.text(j, i, f"{matrix[i, j]}\n{row_share[i, j]:.2f}", ha="center", va="center", fontsize=7, color=colour)
    fig.colorbar(im, ax=ax, label="share of the true class (recall on the diagonal)")
    ax.set_title("Confusion matrix, HAM10000 test split")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_reliability(raw: np.ndarray, calibrated: np.ndarray, labels: np.ndarray, path: Path) -> None:
    import matplotlib.pyplot as plt

    edges = np.linspace(0, 1, ECE_BINS + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    for probs, name, marker in ((raw, "before calibration", "s"), (calibrated, "after calibration (served)", "o")):
        confidence = probs.max(axis=1)
        correct = probs.argmax(axis=1) == labels
        which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, ECE_BINS - 1)
        xs, ys = [], []
        for b in range(ECE_BINS):
            mask = which == b
            if mask.sum() >= 5:  # a bin with a handful of images is noise
                xs.append(centres[b])
                ys.append(correct[mask].mean())
        ece = expected_calibration_error(probs, labels)
        ax.plot(xs, ys, marker=marker, label=f"{name} (ECE {ece:.3f})")
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax.set_title("Reliability diagram, test split")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _plot_roc(probabilities: np.ndarray, labels: np.ndarray, metrics: dict, path: Path) -> None:
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    malignant_true = np.isin(labels, MALIGNANT_INDEX).astype(int)
    fpr, tpr, _ = roc_curve(malignant_true, probabilities[:, MALIGNANT_INDEX].sum(axis=1))
    mvb = metrics["malignant_vs_benign"]
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot(fpr, tpr, label=f"malignant vs benign (AUC {mvb['roc_auc']:.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    for spec, key in ((0.80, "sensitivity_at_80_specificity"), (0.90, "sensitivity_at_90_specificity")):
        ax.plot(1 - spec, mvb[key], "o", label=f"sensitivity {mvb[key]:.2f} at specificity {spec:.0%}")
    ax.set_xlabel("1 - specificity (benign called malignant)")
    ax.set_ylabel("sensitivity (malignant found)")
    ax.legend(loc="lower right")
    ax.set_title("ROC, malignant = akiec + bcc + mel")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _markdown(report: dict) -> str:
    m = report["metrics"]
    mvb, cal = m["malignant_vs_benign"], m["calibration"]
    calibration = report.get("calibration") or f"temperature T={cal['temperature']:.3f}"
    lines = [
        f"# Evaluation of `{report['model_version']}` on the HAM10000 test split",
        "",
        f"Generated {report['generated_at']} by `training.evaluate`. Test split: "
        f"{m['n_images']} images of lesions never seen in training or validation "
        f"(`{report['split_file']}`, sha256 `{report['split_sha256'][:12]}…`).",
        "",
        "The model **informs, it does not diagnose**. These numbers are on dermoscopy images like the "
        "training data; phone photos of skin differ and will score worse.",
        "",
        "| metric | value |",
        "|---|---|",
        f"| balanced accuracy (mean per-class recall) | {m['balanced_accuracy']:.3f} |",
        f"| accuracy | {m['accuracy']:.3f} |",
        f"| macro F1 | {m['macro_f1']:.3f} |",
        f"| malignant-vs-benign ROC AUC | {mvb['roc_auc']:.3f} |",
        f"| sensitivity at 80% specificity | {mvb['sensitivity_at_80_specificity']:.3f} "
        f"(malignant prob >= {mvb['threshold_at_80_specificity']:.3f}) |",
        f"| sensitivity at 90% specificity | {mvb['sensitivity_at_90_specificity']:.3f} "
        f"(malignant prob >= {mvb['threshold_at_90_specificity']:.3f}) |",
        f"| top-label ECE before / after calibration | "
        f"{cal['ece_before_calibration']:.3f} / {cal['ece_after_calibration']:.3f} |",
        f"| malignant-probability ECE before / after calibration | "
        f"{cal['malignant_ece_before_calibration']:.3f} / {cal['malignant_ece_after_calibration']:.3f} |",
        "",
        f'Calibration: {calibration}. "Before" is the image model\'s own probabilities.',
        "",
        "## Per class",
        "",
        "| class | precision | recall | F1 | test images |",
        "|---|---|---|---|---|",
    ]
    for name, c in m["per_class"].items():
        lines.append(f"| {name} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
    lines += [
        "",
        "## Figures",
        "",
        "![confusion matrix](confusion_matrix.png)",
        "![reliability diagram](reliability.png)",
        "![ROC](roc_malignant.png)",
        "",
        "Data: HAM10000 (Tschandl, Rosendahl, Kittler 2018, doi:10.1038/sdata.2018.161), "
        "CC BY-NC-SA 4.0, non-commercial use only.",
        "",
    ]
    return "\n".join(lines)


def write_report(
    probabilities: np.ndarray,
    labels: np.ndarray,
    *,
    temperature: float | None,
    model_version: str,
    split_file: Path,
    out_dir: Path,
    raw: np.ndarray | None = None,
    calibration: str | None = None,
) -> dict:
    """Compute the metrics, draw the figures and write evaluation.json/.md into `out_dir`.

    `raw` are the probabilities before calibration (default: the temperature undone) and
    `calibration` says in words what calibrated them (default: the temperature).
    """
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI

    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = compute_metrics(probabilities, labels, temperature, raw)
    raw = uncalibrated(probabilities, temperature or 1.0) if raw is None else raw
    try:
        split_name = str(Path(split_file).resolve().relative_to(REPO_ROOT))
    except ValueError:
        split_name = str(split_file)
    report = {
        "model_version": model_version,
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "split_file": split_name,
        "split_sha256": file_sha256(split_file),
        "split": "test",
        "calibration": calibration,
        "metrics": metrics,
    }
    _plot_confusion(np.array(metrics["confusion_matrix"]), out_dir / "confusion_matrix.png")
    _plot_reliability(raw, probabilities, labels, out_dir / "reliability.png")
    _plot_roc(probabilities, labels, metrics, out_dir / "roc_malignant.png")
    (out_dir / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out_dir / "evaluation.md").write_text(_markdown(report), encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="HAM10000 folder (metadata.csv, images/)")
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "inference" / "model", help="exported model folder")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports", help="where to write the report")
    parser.add_argument("--split-file", type=Path, default=DEFAULT_SPLIT_FILE)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "skinsite-training")
    parser.add_argument(
        "--images", type=Path, default=None, help="folder whose images/ to score (default --data; e.g. ham10000_320)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import keras

    card = read_card(args.model)
    if tuple(card["classes"]) != CLASSES:
        raise SystemExit(f"model classes {card['classes']} are not {CLASSES}")
    import training.layers  # noqa: F401 - registers the custom layers a model file may hold

    model = keras.saving.load_model(args.model / "model.keras", compile=False)
    if card.get("photo_type"):  # multi-source models: a photo-type input and a clinical column too
        model = PhotoTypeDetected(model)
    rows = [r for r in read_split(args.split_file) if r.split == "test"]
    images = load_images(args.images or args.data, [r.image_id for r in rows], int(card["input_size"]), args.cache_dir)
    meta = metadata_vectors(args.data, [r.image_id for r in rows]) if card.get("metadata_input") else None
    views = int(card.get("test_time_augmentation", 1))
    probabilities = predict_arrays(model, images, meta, views=views)
    calibration = card.get("calibration") or {}
    raw = None
    if calibration.get("method") == "fusion":  # "before calibration" = the image model alone
        raw = softmax(predict_logits(logits_model(model), images, None, views))
    report = write_report(
        probabilities,
        labels_of(rows),
        temperature=card.get("temperature"),
        raw=raw,
        calibration=calibration.get("description"),
        model_version=card["version"],
        split_file=args.split_file,
        out_dir=args.out,
    )
    m = report["metrics"]
    print(
        f"balanced accuracy {m['balanced_accuracy']:.3f}, macro F1 {m['macro_f1']:.3f}, "
        f"malignant AUC {m['malignant_vs_benign']['roc_auc']:.3f}, "
        f"ECE {m['calibration']['ece_before_calibration']:.3f} -> {m['calibration']['ece_after_calibration']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
