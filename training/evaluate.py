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

from training.data import (
    DEFAULT_DATA_DIR,
    DEFAULT_SPLIT_FILE,
    file_sha256,
    labels_of,
    load_images,
    metadata_vectors,
    read_split,
)
from training.preprocessing import CLASSES, MALIGNANT, combine_views, view_inputs

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
MALIGNANT_INDEX = [CLASSES.index(c) for c in MALIGNANT]
ECE_BINS = 15


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def uncalibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Undo temperature scaling: softmax(T * log p) equals softmax(logits) when p = softmax(logits / T)."""
    return softmax(temperature * np.log(np.clip(probabilities, 1e-12, 1.0)))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """Top-label ECE: |accuracy - confidence| averaged over equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    return _binned_gap(confidence, correct.astype(np.float64), bins)


def binary_calibration_error(probability: np.ndarray, outcome: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE of a single probability (here: malignant) against 0/1 outcomes."""
    return _binned_gap(probability, outcome.astype(np.float64), bins)


def _binned_gap(score: np.ndarray, target: np.ndarray, bins: int) -> float:
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(score, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(target[mask].mean() - score[mask].mean())
    return float(total / len(score))


def sensitivity_at_specificity(y_true: np.ndarray, score: np.ndarray, specificity: float) -> tuple[float, float]:
    """Best sensitivity with specificity >= `specificity`, and the score threshold that gives it."""
    from sklearn.metrics import roc_curve

    fpr, tpr, thresholds = roc_curve(y_true, score)
    ok = fpr <= 1.0 - specificity + 1e-12
    best = int(np.argmax(np.where(ok, tpr, -1.0)))
    return float(tpr[best]), float(min(thresholds[best], 1.0))


def compute_metrics(
    probabilities: np.ndarray, labels: np.ndarray, temperature: float | None = 1.0, raw: np.ndarray | None = None
) -> dict:
    """All the test metrics for calibrated `probabilities` (n, 7) and true class indices.

    The "before" calibration errors are of `raw` (the image model's own probabilities) if given,
    else of the probabilities with the temperature undone.
    """
    from sklearn.metrics import (
        balanced_accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    predicted = probabilities.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=range(len(CLASSES)), zero_division=0
    )
    malignant_true = np.isin(labels, MALIGNANT_INDEX).astype(int)
    malignant_score = probabilities[:, MALIGNANT_INDEX].sum(axis=1)
    raw = uncalibrated(probabilities, temperature or 1.0) if raw is None else raw
    sens80, thr80 = sensitivity_at_specificity(malignant_true, malignant_score, 0.80)
    sens90, thr90 = sensitivity_at_specificity(malignant_true, malignant_score, 0.90)
    return {
        "n_images": len(labels),
        "balanced_accuracy": float(balanced_accuracy_score(labels, predicted)),
        "accuracy": float((predicted == labels).mean()),
        "macro_f1": float(f1_score(labels, predicted, average="macro", labels=range(len(CLASSES)), zero_division=0)),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(CLASSES)
        },
        "malignant_vs_benign": {
            "roc_auc": float(roc_auc_score(malignant_true, malignant_score)),
            "sensitivity_at_80_specificity": sens80,
            "threshold_at_80_specificity": thr80,
            "sensitivity_at_90_specificity": sens90,
            "threshold_at_90_specificity": thr90,
            "n_malignant": int(malignant_true.sum()),
            "n_benign": int(len(labels) - malignant_true.sum()),
        },
        "calibration": {
            "temperature": None if temperature is None else float(temperature),
            "ece_before_calibration": expected_calibration_error(raw, labels),
            "ece_after_calibration": expected_calibration_error(probabilities, labels),
            "malignant_ece_before_calibration": binary_calibration_error(
                raw[:, MALIGNANT_INDEX].sum(axis=1), malignant_true
            ),
            "malignant_ece_after_calibration": binary_calibration_error(malignant_score, malignant_true),
            "bins": ECE_BINS,
        },
        "confusion_matrix": confusion_matrix(labels, predicted, labels=range(len(CLASSES))).tolist(),
    }


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


def view_outputs(model, images: np.ndarray, meta: np.ndarray | None, views: int, batch_size: int = 32):
    """Yield `(views, n, k)` float64 model outputs for batches of uint8 images (and metadata vectors)."""
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        inputs = view_inputs(chunk, None if meta is None else meta[start : start + batch_size], views)
        yield np.asarray(model(inputs, training=False), dtype=np.float64).reshape(views, len(chunk), -1)


def predict_arrays(
    model, images: np.ndarray, meta: np.ndarray | None = None, views: int = 1, batch_size: int = 32
) -> np.ndarray:
    """Model probabilities for prepared uint8 images (and metadata vectors), batch by batch.

    With `views` > 1 every image is scored in its dihedral views and the results are combined
    as the served model does (`combine_views`). Float64 rows that sum to 1.
    """
    out = [
        combine_views(output.reshape(-1, output.shape[-1]), views)
        for output in view_outputs(model, images, meta, views, batch_size)
    ]
    probs = np.concatenate(out) if out else np.zeros((0, len(CLASSES)))
    return probs / probs.sum(axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="HAM10000 folder (metadata.csv, images/)")
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "inference" / "model", help="exported model folder")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports", help="where to write the report")
    parser.add_argument("--split-file", type=Path, default=DEFAULT_SPLIT_FILE)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "skinsite-training")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import keras

    card = json.loads((args.model / "model_card.json").read_text(encoding="utf-8"))
    if tuple(card["classes"]) != CLASSES:
        raise SystemExit(f"model classes {card['classes']} are not {CLASSES}")
    import training.layers  # noqa: F401 - registers the custom layers a model file may hold

    model = keras.saving.load_model(args.model / "model.keras", compile=False)
    rows = [r for r in read_split(args.split_file) if r.split == "test"]
    images = load_images(args.data, [r.image_id for r in rows], int(card["input_size"]), args.cache_dir)
    meta = metadata_vectors(args.data, [r.image_id for r in rows]) if card.get("metadata_input") else None
    views = int(card.get("test_time_augmentation", 1))
    probabilities = predict_arrays(model, images, meta, views=views)
    calibration = card.get("calibration") or {}
    raw = None
    if calibration.get("method") == "fusion":  # "before calibration" = the image model alone
        from training.export import logits_model, predict_logits

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
