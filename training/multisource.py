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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.preprocessing import CLASSES, METADATA_SIZE

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


def _fit_regression(x, labels, weights, c):
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


def group_folds(groups: list[str], n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number per image, the same for all images of one patient or lesion."""
    unique = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(unique))
    fold_of = {g: int(order[i] % n_folds) for i, g in enumerate(unique)}
    return np.array([fold_of[g] for g in groups])


def exported_model(cnn, detector: PhotoTypeDetector, fusion: TypedFusion):
    """The served Keras model: image, metadata, photo_type in; 7 probabilities + clinical probability out."""
    import keras

    from training.layers import PhotoTypeGate

    clean = keras.Model.from_config(cnn.get_config(), custom_objects=None)
    clean.set_weights(cnn.get_weights())
    features_model = keras.Model(clean.inputs, clean.get_layer("head_dropout").input, name="lesion_features")
    image = keras.Input(clean.input_shape[1:], name="image")
    meta = keras.Input((METADATA_SIZE,), name="metadata")
    given = keras.Input((2,), name="photo_type")
    features = features_model(image)
    logits_layer = keras.layers.Dense(len(CLASSES), name="logits")
    logits = logits_layer(features)
    logits_layer.set_weights(clean.get_layer("logits").get_weights())
    detector_layer = keras.layers.Dense(1, activation="sigmoid", name="photo_type_detector")
    clinical = detector_layer(features)
    detector_layer.set_weights([detector.kernel, detector.bias])
    typed = PhotoTypeGate(name="photo_type_gate")([clinical, given, logits])
    joined = keras.layers.Concatenate(name="fusion")([logits, meta, typed])
    dense = keras.layers.Dense(len(CLASSES), name="fusion_calibration")
    scores = dense(joined)
    dense.set_weights([fusion.kernel, fusion.bias])
    probabilities = keras.layers.Softmax(name="probabilities")(scores)
    out = keras.layers.Concatenate(name="probabilities_and_clinical")([probabilities, clinical])
    return keras.Model([image, meta, given], out, name="lesion_classifier_multisource")
