"""`train_sources` helpers that start a run from a served model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SERVED = Path(__file__).resolve().parents[2] / "inference" / "model"


def test_a_served_cnn_moves_to_another_input_size_with_every_weight_and_back():
    keras = pytest.importorskip("keras")
    import training.layers  # noqa: F401 - custom layers in the served model file
    from training.train_sources import at_size, served_cnn

    cnn = served_cnn(SERVED, 192)
    assert at_size(cnn, 192) is cnn
    bigger = at_size(cnn, 224)
    assert bigger.input_shape[1:] == (224, 224, 3)
    for before, after in zip(cnn.weights, bigger.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))
    # Back at 192 px it is the same network: the same logits for the same photos.
    images = np.random.default_rng(0).integers(0, 256, (2, 192, 192, 3)).astype(np.float32)
    np.testing.assert_allclose(
        at_size(bigger, 192).predict_on_batch(images), cnn.predict_on_batch(images), rtol=1e-5, atol=1e-5
    )
    assert np.isfinite(bigger.predict_on_batch(np.zeros((1, 224, 224, 3), np.float32))).all()
    assert isinstance(bigger, keras.Model)
