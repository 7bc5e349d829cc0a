"""The multi-source pieces after the CNN: photo-type detector, fusion with the photo type, export.

The CNN's pooled features feed a logistic-regression **photo-type detector** (dermoscopy or
clinical), fitted on the training split of every source. The **fusion** layer is a multinomial
logistic regression on `[mean logits over the views, metadata?, t, t * logits]` with t the photo
type (1 = clinical; the detector's probability unless the user gave it): one model whose last layer
has a second set of weights for clinical photos. It is fitted on the validation split of every
source, with classes balanced within each source and the metadata blanked as most real photos
come without it, then a temperature is fitted on its grouped out-of-fold scores.

`exported_model` assembles the served Keras model: `image`, `metadata`, `photo_type` in; the 7
probabilities and the clinical probability out (one tensor of 8, so the TFLite file has one output).
`served_graph` does the wiring, for the export and for `training.feature_checks`, which appends
the not-assessable checks' two columns (10 in all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from training.contract import CLASSES, METADATA_SIZE

FUSION_C = 0.3


@dataclass(frozen=True)
class PhotoTypeDetector:
    """`sigmoid(features @ kernel + bias)`: the probability that a photo is clinical (not dermoscopy)."""

    kernel: np.ndarray  # (d, 1)
    bias: np.ndarray  # (1,)

    def probability(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ self.kernel + self.bias)[:, 0]))


def fit_photo_type(features: np.ndarray, clinical: np.ndarray, c: float = 0.1) -> PhotoTypeDetector:
    from sklearn.linear_model import LogisticRegression

    regression = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(features, clinical)
    return PhotoTypeDetector(regression.coef_.T.astype(np.float32), regression.intercept_.astype(np.float32))


@dataclass(frozen=True)
class TypedFusion:
    """`softmax([logits, metadata?, t, t*logits] @ kernel + bias)`; kernel rows for metadata are 0 if unused."""

    kernel: np.ndarray  # (7 + METADATA_SIZE + 1 + 7, 7), divided by the temperature
    bias: np.ndarray
    temperature: float
    uses_metadata: bool
    uses_photo_type: bool

    def probabilities(self, logits: np.ndarray, meta: np.ndarray, t: np.ndarray) -> np.ndarray:
        scores = fusion_features(logits, meta, t) @ self.kernel + self.bias
        scores -= scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)


def fusion_features(logits: np.ndarray, meta: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = t.reshape(-1, 1)
    return np.hstack([logits, meta, t, t * logits])


def _mask(uses_metadata: bool, uses_photo_type: bool) -> np.ndarray:
    k = len(CLASSES)
    keep = np.ones(k + METADATA_SIZE + 1 + k, dtype=bool)
    if not uses_metadata:
        keep[k : k + METADATA_SIZE] = False
    if not uses_photo_type:
        keep[k + METADATA_SIZE :] = False
    return keep


def _weights(labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Classes balanced within each source (`groups` holds the source names)."""
    w = np.zeros(len(labels))
    for source in np.unique(groups):
        in_source = groups == source
        present = np.unique(labels[in_source])
        for c in present:
            members = in_source & (labels == c)
            w[members] = in_source.sum() / (len(present) * members.sum())
    return w / w.mean()


def _fit_regression(x: np.ndarray, labels: np.ndarray, weights: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000).fit(x, labels, sample_weight=weights)


def fit_typed_fusion(
    logits: np.ndarray,
    meta: np.ndarray,
    t: np.ndarray,
    labels: np.ndarray,
    sources: np.ndarray,
    folds: np.ndarray,
    *,
    uses_metadata: bool,
    uses_photo_type: bool = True,
    c: float = FUSION_C,
) -> tuple[TypedFusion, np.ndarray]:
    """Fit on validation logits; returns the fusion and its out-of-fold probabilities (by `folds`).

    `folds` assigns each image a fold by its patient or lesion, so out-of-fold means unseen patients.
    """
    from training.calibration import fit_temperature

    keep = _mask(uses_metadata, uses_photo_type)
    x = fusion_features(logits, meta, t)[:, keep]
    weights = _weights(labels, sources)
    regression = _fit_regression(x, labels, weights, c)
    if list(regression.classes_) != list(range(len(CLASSES))):
        raise ValueError("every class must occur in the fitting data")
    oof_scores = np.zeros((len(labels), len(CLASSES)))
    for fold in np.unique(folds):
        held = folds == fold
        part = _fit_regression(x[~held], labels[~held], weights[~held], c)
        oof_scores[np.ix_(held, part.classes_)] = part.decision_function(x[held])
        oof_scores[np.ix_(held, np.setdiff1d(np.arange(len(CLASSES)), part.classes_))] = -30.0
    temperature = fit_temperature(oof_scores, labels)
    kernel = np.zeros((len(keep), len(CLASSES)), dtype=np.float32)
    kernel[keep] = regression.coef_.T / temperature
    fusion = TypedFusion(
        kernel, (regression.intercept_ / temperature).astype(np.float32), temperature, uses_metadata, uses_photo_type
    )
    z = oof_scores / temperature
    z -= z.max(axis=1, keepdims=True)
    oof = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return fusion, oof


@dataclass(frozen=True)
class RankCalibration:
    """Calibration that keeps the CNN's malignant ranking within each photo type.

    `softmax(logits / T + t * b)` (a temperature and, for clinical photos, one bias per class),
    then the malignant share recalibrated by `sigmoid(a * logit(m) + c + d * t)` with the classes'
    proportions kept (`training.layers.MalignantRecalibration`).
    """

    temperature: float
    clinical_bias: np.ndarray  # (7,)
    a: float
    c: float
    d: float

    def fusion(self) -> TypedFusion:
        """The same first step as a `TypedFusion` kernel (metadata and t * logits weights are 0)."""
        k = len(CLASSES)
        kernel = np.zeros((k + METADATA_SIZE + 1 + k, k), dtype=np.float32)
        kernel[:k, :k] = np.eye(k) / self.temperature
        kernel[k + METADATA_SIZE] = self.clinical_bias
        return TypedFusion(kernel, np.zeros(k, dtype=np.float32), self.temperature, False, True)

    def probabilities(self, logits: np.ndarray, t: np.ndarray) -> np.ndarray:
        from training.metrics import softmax

        p = softmax(logits / self.temperature + t.reshape(-1, 1) * self.clinical_bias)
        mask = np.isin(np.arange(len(CLASSES)), MALIGNANT_INDEX)
        m = np.clip(p[:, mask].sum(axis=1), 1e-6, 1 - 1e-6)
        m_new = 1 / (1 + np.exp(-(self.a * np.log(m / (1 - m)) + self.c + self.d * t)))
        scale = np.where(mask, (m_new / m)[:, None], ((1 - m_new) / (1 - m))[:, None])
        return p * scale


MALIGNANT_INDEX = [CLASSES.index(c) for c in ("akiec", "bcc", "mel")]


PHOTO_TYPE_MODES = ("none", "malignant", "classes")


def fit_rank_calibration(
    logits: np.ndarray, t: np.ndarray, labels: np.ndarray, photo_type: str = "classes"
) -> RankCalibration:
    """Fit T (NLL), the clinical class biases (NLL on the logits / T, lightly L2-penalised), then a, c, d.

    `photo_type`: "classes" fits both the clinical class biases and d; "malignant" only d (clinical
    photos get their own malignant intercept); "none" neither (one calibration for both types).
    """
    if photo_type not in PHOTO_TYPE_MODES:
        raise ValueError(f"photo_type must be one of {PHOTO_TYPE_MODES}")
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    from training.calibration import fit_temperature
    from training.metrics import softmax

    temperature = fit_temperature(logits, labels)
    z = logits / temperature
    rows = np.arange(len(labels))

    def nll(b: np.ndarray) -> float:
        p = softmax(z + t[:, None] * b[None, :])
        return float(-np.log(p[rows, labels] + 1e-12).mean() + 0.01 * (b**2).sum())

    fit_bias = photo_type == "classes"
    bias = minimize(nll, np.zeros(len(CLASSES)), method="L-BFGS-B").x if fit_bias else np.zeros(len(CLASSES))
    p = softmax(z + t[:, None] * bias[None, :])
    m = np.clip(p[:, MALIGNANT_INDEX].sum(axis=1), 1e-6, 1 - 1e-6)
    malignant = np.isin(labels, MALIGNANT_INDEX)
    platt = LogisticRegression(C=10.0).fit(np.c_[np.log(m / (1 - m)), t * (photo_type != "none")], malignant)
    (a, d), c = platt.coef_[0], platt.intercept_[0]
    return RankCalibration(temperature, bias.astype(np.float32), float(a), float(c), float(d))


def cross_fit_rank_calibration(
    logits: np.ndarray, t: np.ndarray, labels: np.ndarray, folds: np.ndarray, photo_type: str = "classes"
) -> tuple[RankCalibration, np.ndarray]:
    """The calibration fitted on all rows, and its out-of-fold probabilities (folds by patient or lesion)."""
    oof = np.zeros((len(labels), len(CLASSES)))
    for fold in np.unique(folds):
        held = folds == fold
        part = fit_rank_calibration(logits[~held], t[~held], labels[~held], photo_type)
        oof[held] = part.probabilities(logits[held], t[held])
    return fit_rank_calibration(logits, t, labels, photo_type), oof


def group_folds(groups: list[str], n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number per image, the same for all images of one patient or lesion."""
    unique = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(unique))
    fold_of = {g: int(order[i] % n_folds) for i, g in enumerate(unique)}
    return np.array([fold_of[g] for g in groups])


def exported_model(
    cnn: Any, detector: PhotoTypeDetector, fusion: TypedFusion, recalibration: RankCalibration | None = None
) -> Any:
    """The served Keras model: image, metadata, photo_type in; 7 probabilities + clinical probability out."""
    import keras

    from training.layers import MalignantRecalibration, PhotoTypeGate

    clean = keras.Model.from_config(cnn.get_config(), custom_objects=None)
    clean.set_weights(cnn.get_weights())
    layers = {
        "lesion_features": keras.Model(clean.inputs, clean.get_layer("head_dropout").input, name="lesion_features"),
        "logits": keras.layers.Dense(len(CLASSES), name="logits"),
        "photo_type_detector": keras.layers.Dense(1, activation="sigmoid", name="photo_type_detector"),
        "photo_type_gate": PhotoTypeGate(name="photo_type_gate"),
        "fusion": keras.layers.Concatenate(name="fusion"),
        "fusion_calibration": keras.layers.Dense(len(CLASSES), name="fusion_calibration"),
        "probabilities": keras.layers.Softmax(name="probabilities"),
    }
    if recalibration is not None:
        layers["malignant_recalibration"] = MalignantRecalibration(
            MALIGNANT_INDEX, recalibration.a, recalibration.c, recalibration.d, name="malignant_recalibration"
        )
    model = served_graph(layers, clean.input_shape[1:])
    layers["logits"].set_weights(clean.get_layer("logits").get_weights())
    layers["photo_type_detector"].set_weights([detector.kernel, detector.bias])
    layers["fusion_calibration"].set_weights([fusion.kernel, fusion.bias])
    return model


SERVED_LAYERS = (
    "lesion_features",
    "logits",
    "photo_type_detector",
    "photo_type_gate",
    "fusion",
    "fusion_calibration",
    "probabilities",
    "malignant_recalibration",
)


def served_graph(layers: dict[str, Any], image_shape: tuple[int, ...]) -> Any:
    """Wire the served model from its layers (`SERVED_LAYERS`, `malignant_recalibration` optional, and
    `feature_checks` when the not-assessable feature checks are built in: two more output columns)."""
    import keras

    image = keras.Input(image_shape, name="image")
    meta = keras.Input((METADATA_SIZE,), name="metadata")
    given = keras.Input((2,), name="photo_type")
    features = layers["lesion_features"](image)
    logits = layers["logits"](features)
    clinical = layers["photo_type_detector"](features)
    typed = layers["photo_type_gate"]([clinical, given, logits])
    probabilities = layers["probabilities"](layers["fusion_calibration"](layers["fusion"]([logits, meta, typed])))
    if "malignant_recalibration" in layers:
        probabilities = layers["malignant_recalibration"]([probabilities, typed])
    outputs = [probabilities, clinical]
    if "feature_checks" in layers:
        outputs.append(layers["feature_checks"](features))
    out = keras.layers.Concatenate(name="probabilities_and_clinical")(outputs)
    return keras.Model([image, meta, given], out, name="lesion_classifier_multisource")
