"""Metric and calibration helpers used by training and the evaluation report (no TensorFlow)."""

import numpy as np
import pytest

from training.calibration import fit_temperature
from training.contract import CLASSES
from training.evaluate import (
    compute_metrics,
    expected_calibration_error,
    sensitivity_at_specificity,
    softmax,
    uncalibrated,
)
from training.train import class_weights

rng = np.random.default_rng(0)


def _sample_labels(probabilities: np.ndarray) -> np.ndarray:
    cumulative = probabilities.cumsum(axis=1)
    return (rng.random((len(probabilities), 1)) > cumulative).sum(axis=1).clip(0, probabilities.shape[1] - 1)


def test_uncalibrated_inverts_temperature_scaling():
    logits = rng.normal(0, 3, (50, 7))
    np.testing.assert_allclose(uncalibrated(softmax(logits / 1.7), 1.7), softmax(logits), atol=1e-9)


def test_fit_temperature_recovers_the_true_temperature():
    logits = rng.normal(0, 4, (20000, 7))
    labels = _sample_labels(softmax(logits / 2.5))  # the truth is softer than the logits claim
    assert fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.08)


def test_ece_is_small_when_calibrated_and_large_when_overconfident():
    logits = rng.normal(0, 2, (20000, 7))
    probabilities = softmax(logits)
    labels = _sample_labels(probabilities)
    assert expected_calibration_error(probabilities, labels) < 0.02
    assert expected_calibration_error(softmax(logits * 4), labels) > 0.1


def test_sensitivity_at_specificity():
    truth = np.array([0] * 10 + [1] * 10)
    score = np.concatenate([np.linspace(0, 0.5, 10), np.linspace(0.3, 1.0, 10)])
    sensitivity, threshold = sensitivity_at_specificity(truth, score, 0.9)
    # At most 1 of the 10 benign may score >= threshold; the best such cut finds 8 of 10 malignant.
    assert (score[truth == 0] >= threshold).sum() <= 1
    assert sensitivity == pytest.approx((score[truth == 1] >= threshold).mean())
    assert sensitivity == pytest.approx(0.8)


def test_compute_metrics_on_a_perfect_model():
    labels = np.repeat(np.arange(len(CLASSES)), 5)
    probabilities = np.full((len(labels), len(CLASSES)), 0.01)
    probabilities[np.arange(len(labels)), labels] = 0.94
    metrics = compute_metrics(probabilities, labels)
    assert metrics["balanced_accuracy"] == metrics["macro_f1"] == 1.0
    assert metrics["malignant_vs_benign"]["roc_auc"] == 1.0
    assert metrics["confusion_matrix"] == (np.eye(len(CLASSES), dtype=int) * 5).tolist()


def test_class_weights_balance_the_classes_and_average_one():
    labels = np.array([0] * 10 + [1] * 100 + [2] * 40 + [3] * 5 + [4] * 30 + [5] * 600 + [6] * 8)
    balanced = class_weights(labels, 1.0)
    per_class_total = [balanced[c] * (labels == c).sum() for c in range(len(CLASSES))]
    assert np.allclose(per_class_total, per_class_total[0])
    assert np.mean([balanced[c] for c in labels]) == pytest.approx(1.0)
    assert list(class_weights(labels, 0.0).values()) == pytest.approx([1.0] * len(CLASSES))
