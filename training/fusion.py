"""Late fusion: the image model's logits plus age, sex and body site, calibrated on validation.

The CNN sees only the photo. A multinomial logistic regression on `[mean logits over the
test-time views, metadata vector]`, fitted on the validation split with class-balanced weights,
turns them into the final probabilities; it replaces temperature scaling (which is the special
case of one shared weight on the logits and no metadata). In the exported Keras model it is a
`Concatenate` + `Dense` layer after the CNN, so the served file takes `image` and `metadata`.

Why late fusion: feeding the metadata into the CNN while fine-tuning (`train.py --metadata`) did
not beat the image-only model on validation (0.686 against 0.718 balanced accuracy, 8 views),
while this layer did in 5-fold cross-validation on validation (about +0.03); see
training/README.md. Because it is linear in the logits, averaging the views' log-probabilities
(as `combine_views` does) gives exactly the fusion of the averaged logits it was fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from training.contract import CLASSES, METADATA_SIZE

FUSION_C = 0.3  # inverse L2 strength, chosen by cross-validation on validation (0.3 vs 1 vs 3)
CV_FOLDS = 5
CV_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Fusion:
    """The fitted layer: `softmax([logits, metadata] @ kernel + bias)`."""

    kernel: np.ndarray  # (7 + METADATA_SIZE, 7), already divided by the temperature
    bias: np.ndarray  # (7,), likewise
    c: float
    temperature: float  # fitted on out-of-fold scores, folded into kernel and bias

    def probabilities(self, logits: np.ndarray, meta: np.ndarray) -> np.ndarray:
        scores = np.hstack([logits, meta]) @ self.kernel + self.bias
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


def _regression(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)


def fit_fusion(logits: np.ndarray, meta: np.ndarray, labels: np.ndarray, c: float = FUSION_C) -> Fusion:
    """Fit the fusion layer on held-out (validation) logits, metadata vectors and labels.

    The regression's own probabilities are over-confident on images it was not fitted on, so a
    temperature is fitted on its out-of-fold scores (5 folds) and folded into the weights: in
    nested cross-validation on validation it took the top-label ECE from about 0.047 to 0.030
    without changing any predicted class.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from training.calibration import fit_temperature

    if meta.shape[1] != METADATA_SIZE:
        raise ValueError(f"metadata vectors must have {METADATA_SIZE} values, got {meta.shape[1]}")
    features = np.hstack([logits, meta])
    regression = _regression(c).fit(features, labels)
    if list(regression.classes_) != list(range(len(CLASSES))):
        raise ValueError("every class must occur in the fitting data")
    folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=CV_SEEDS[0])
    out_of_fold = cross_val_predict(_regression(c), features, labels, cv=folds, method="decision_function")
    temperature = fit_temperature(out_of_fold, labels)
    return Fusion(
        kernel=(regression.coef_.T / temperature).astype(np.float32),
        bias=(regression.intercept_ / temperature).astype(np.float32),
        c=c,
        temperature=temperature,
    )


def cross_validate(logits: np.ndarray, meta: np.ndarray | None, labels: np.ndarray, c: float = FUSION_C) -> dict:
    """Out-of-fold metrics of the fusion (or, with `meta=None`, of the same layer without metadata).

    The honest estimate of what fitting on validation buys: every image is scored by a layer
    fitted on the other folds. Averaged over `CV_SEEDS` fold assignments.
    """
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from training.metrics import MALIGNANT_INDEX, expected_calibration_error

    features = logits if meta is None else np.hstack([logits, meta])
    malignant = np.isin(labels, MALIGNANT_INDEX)
    scores: dict[str, list[float]] = {"balanced_accuracy": [], "malignant_roc_auc": [], "ece": []}
    for seed in CV_SEEDS:
        folds = StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)
        probs = cross_val_predict(_regression(c), features, labels, cv=folds, method="predict_proba")
        scores["balanced_accuracy"].append(balanced_accuracy_score(labels, probs.argmax(axis=1)))
        scores["malignant_roc_auc"].append(roc_auc_score(malignant, probs[:, MALIGNANT_INDEX].sum(axis=1)))
        scores["ece"].append(expected_calibration_error(probs, labels))
    return {name: round(float(np.mean(values)), 4) for name, values in scores.items()}


def fused_model(logits_model: Any, fusion: Fusion) -> Any:
    """The exported model: image and metadata in, fused probabilities out (the CNN nested inside)."""
    import keras

    clean = keras.Model.from_config(logits_model.get_config())  # no optimizer state in the file
    clean.set_weights(logits_model.get_weights())
    image = keras.Input(clean.input_shape[1:], name="image")
    meta = keras.Input((METADATA_SIZE,), name="metadata")
    joined = keras.layers.Concatenate(name="fusion")([clean(image), meta])
    dense = keras.layers.Dense(len(CLASSES), name="fusion_calibration")
    scores = dense(joined)
    dense.set_weights([fusion.kernel, fusion.bias])
    probabilities = keras.layers.Softmax(name="probabilities")(scores)
    return keras.Model([image, meta], probabilities, name="lesion_classifier_fused")
