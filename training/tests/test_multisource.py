"""The multi-source head: rank-keeping calibration, photo-type detector and the served graph."""

import numpy as np
import pytest

from training.contract import METADATA_SIZE
from training.multisource import (
    MALIGNANT_INDEX,
    PhotoTypeDetector,
    RankCalibration,
    cross_fit_rank_calibration,
    exported_model,
    fit_rank_calibration,
    group_folds,
)


def _data(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, n)
    logits = rng.normal(0, 1, (n, 7))
    logits[np.arange(n), labels] += 2.0  # informative, like a trained CNN
    t = (rng.random(n) < 0.3).astype(np.float64)
    return logits, t, labels


def _malignant(p: np.ndarray) -> np.ndarray:
    return p[:, MALIGNANT_INDEX].sum(axis=1)


@pytest.mark.parametrize("mode", ["none", "malignant", "classes"])
def test_calibration_keeps_the_malignant_ranking_within_a_photo_type(mode):
    logits, t, labels = _data()
    calibration = fit_rank_calibration(logits, t, labels, mode)
    p = calibration.probabilities(logits, t)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    for kind in (0.0, 1.0):
        rows = t == kind
        before = _malignant(calibration.probabilities(logits[rows], np.full(rows.sum(), kind)))
        raw = logits[rows] / calibration.temperature + kind * calibration.clinical_bias
        raw_share = _malignant(np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True))
        assert np.array_equal(np.argsort(before, kind="stable"), np.argsort(raw_share, kind="stable"))
    if mode == "none":
        assert not calibration.clinical_bias.any() and calibration.d == 0.0
    if mode == "malignant":
        assert not calibration.clinical_bias.any()


def test_out_of_fold_scores_never_see_their_own_group():
    logits, t, labels = _data()
    groups = [f"patient{i // 3}" for i in range(len(labels))]  # three photos per patient
    folds = group_folds(groups)
    assert all(len({folds[i] for i in range(len(groups)) if groups[i] == g}) == 1 for g in set(groups))
    _, oof = cross_fit_rank_calibration(logits, t, labels, folds, "malignant")
    full = fit_rank_calibration(logits, t, labels, "malignant").probabilities(logits, t)
    assert oof.shape == full.shape and not np.allclose(oof, full)


def test_the_served_graph_reproduces_detector_and_calibration_and_takes_an_override(tmp_path):
    keras = pytest.importorskip("keras")

    import training.layers  # noqa: F401 - registers the custom layers for loading

    image = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(8, 3, activation="relu")(keras.layers.Rescaling(1 / 255)(image))
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(7, name="logits")(keras.layers.Dropout(0.3, name="head_dropout")(pooled))
    cnn = keras.Model(image, logits, name="lesion_classifier")
    rng = np.random.default_rng(1)
    detector = PhotoTypeDetector(rng.normal(0, 1, (8, 1)).astype(np.float32), np.array([0.1], dtype=np.float32))
    calibration = RankCalibration(0.9, rng.normal(0, 0.3, 7).astype(np.float32), 0.95, -1.5, 1.7)
    model = exported_model(cnn, detector, calibration.fusion(), calibration)
    model.save(tmp_path / "model.keras")
    served = keras.saving.load_model(tmp_path / "model.keras", compile=False)

    images = rng.integers(0, 256, (5, 32, 32, 3)).astype(np.float32)
    meta = np.zeros((5, METADATA_SIZE), dtype=np.float32)
    features = keras.Model(cnn.inputs, cnn.get_layer("head_dropout").input).predict_on_batch(images)
    cnn_logits = cnn.predict_on_batch(images)
    detected = detector.probability(features)
    out = served.predict_on_batch([images, meta, np.zeros((5, 2), dtype=np.float32)])
    np.testing.assert_allclose(out[:, 7], detected, atol=1e-5)
    np.testing.assert_allclose(out[:, :7], calibration.probabilities(cnn_logits, detected), atol=1e-5)
    said_clinical = served.predict_on_batch([images, meta, np.tile([[1.0, 1.0]], (5, 1)).astype(np.float32)])
    np.testing.assert_allclose(said_clinical[:, :7], calibration.probabilities(cnn_logits, np.ones(5)), atol=1e-5)
    np.testing.assert_allclose(said_clinical[:, 7], detected, atol=1e-5)  # the detector still reports what it saw
