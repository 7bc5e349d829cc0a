"""Benign/malignant figures for one source's photos, the same for our model, sklesion and the card.

Numpy and scikit-learn only. Malignant = akiec, bcc, mel and scc (`Sample.malignant`). Beside the
malignant-against-benign AUC, the AUC of melanoma against melanocytic nevus (`melanoma_vs_nevus_auc`,
the source's own dx labels, ranked by the same malignant probability): the discrimination that
matters most, which the pooled malignant AUC can hide (issue 20).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.contract import CLASSES, MALIGNANT_CLASSES
from training.metrics import binary_calibration_error, sensitivity_at_specificity
from training.sources import Sample

MALIGNANT_INDEX = [CLASSES.index(c) for c in MALIGNANT_CLASSES]
OPERATING_THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def malignant_score(probabilities: np.ndarray) -> np.ndarray:
    return probabilities[:, MALIGNANT_INDEX].sum(axis=1)


def melanoma_vs_nevus_auc(dx: Sequence[str], score: np.ndarray) -> float | None:
    """ROC AUC of `score` for melanoma (dx "mel") against melanocytic nevus (dx "nv"), the other photos left
    out; None unless both are present."""
    from sklearn.metrics import roc_auc_score

    codes = np.asarray(dx)
    mask = (codes == "mel") | (codes == "nv")
    melanoma: np.ndarray = codes[mask] == "mel"
    if not (melanoma.any() and (~melanoma).any()):
        return None
    return float(roc_auc_score(melanoma, np.asarray(score)[mask]))


def source_metrics(samples: list[Sample], probabilities: np.ndarray) -> dict:
    """AUC (malignant against benign; melanoma against nevus), sensitivity at 80/90 % specificity, balanced
    accuracy over the classes present, calibration."""
    from sklearn.metrics import roc_auc_score

    malignant = np.array([s.malignant for s in samples])
    score = malignant_score(probabilities)
    both = bool(malignant.any() and (~malignant).any())
    labels = np.array([s.class_index for s in samples])
    predicted = probabilities.argmax(axis=1)
    present = sorted({int(c) for c in labels if c >= 0})
    recalls = {CLASSES[c]: float((predicted[labels == c] == c).mean()) for c in present}
    return {
        "n_images": len(samples),
        "n_malignant": int(malignant.sum()),
        "n_benign": int((~malignant).sum()),
        "malignant_roc_auc": float(roc_auc_score(malignant, score)) if both else None,
        "n_melanoma": sum(s.dx == "mel" for s in samples),
        "n_nevus": sum(s.dx == "nv" for s in samples),
        "melanoma_vs_nevus_auc": melanoma_vs_nevus_auc([s.dx for s in samples], score),
        "sensitivity_at_80_specificity": sensitivity_at_specificity(malignant, score, 0.80)[0] if both else None,
        "sensitivity_at_90_specificity": sensitivity_at_specificity(malignant, score, 0.90)[0] if both else None,
        "balanced_accuracy": float(np.mean(list(recalls.values()))) if recalls else None,
        "recall_per_class": recalls,
        "malignant_calibration_error": binary_calibration_error(score, malignant),
        "mean_malignant_probability": {
            "benign": float(score[~malignant].mean()) if (~malignant).any() else None,
            "malignant": float(score[malignant].mean()) if malignant.any() else None,
        },
    }


def operating_points(
    malignant: np.ndarray, score: np.ndarray, thresholds: Sequence[float] = OPERATING_THRESHOLDS
) -> list[dict[str, float]]:
    """Sensitivity and specificity when "malignant probability >= threshold" is called malignant."""
    return [
        {
            "threshold": t,
            "sensitivity": float((score[malignant] >= t).mean()),
            "specificity": float((score[~malignant] < t).mean()),
        }
        for t in thresholds
    ]
