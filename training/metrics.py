"""Classification metrics: calibration errors, ROC operating points, the full report dictionary.

Numpy and scikit-learn only; the bottom of training/'s dependency order (above preprocessing).
"""

from __future__ import annotations

import numpy as np

from training.contract import CLASSES, MALIGNANT_CLASSES

MALIGNANT_INDEX = [CLASSES.index(c) for c in MALIGNANT_CLASSES]
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


def summary_metrics(metrics: dict) -> dict:
    """The headline numbers only (the full report is in reports/evaluation.json)."""
    mvb, cal = metrics["malignant_vs_benign"], metrics["calibration"]
    return {
        "n_images": metrics["n_images"],
        "balanced_accuracy": round(metrics["balanced_accuracy"], 4),
        "accuracy": round(metrics["accuracy"], 4),
        "macro_f1": round(metrics["macro_f1"], 4),
        "malignant_roc_auc": round(mvb["roc_auc"], 4),
        "malignant_sensitivity_at_80_specificity": round(mvb["sensitivity_at_80_specificity"], 4),
        "malignant_sensitivity_at_90_specificity": round(mvb["sensitivity_at_90_specificity"], 4),
        "ece_before_calibration": round(cal["ece_before_calibration"], 4),
        "ece_after_calibration": round(cal["ece_after_calibration"], 4),
        "malignant_ece_after_calibration": round(cal["malignant_ece_after_calibration"], 4),
        "per_class_recall": {k: round(v["recall"], 4) for k, v in metrics["per_class"].items()},
    }
