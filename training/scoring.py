"""Run a Keras model over prepared image arrays: views, batches, logits and probabilities.

Used by export, evaluation and training; imports Keras only through the model it is given (and in
`cnn_outputs`, which splits a CNN at its head).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from training.contract import CLASSES, combine_views, dihedral_views, view_inputs


def view_outputs(
    model: Any, images: np.ndarray, meta: np.ndarray | None, views: int, batch_size: int = 32
) -> Iterator[np.ndarray]:
    """Yield `(views, n, k)` float64 model outputs for batches of uint8 images (and metadata vectors)."""
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        inputs = view_inputs(chunk, None if meta is None else meta[start : start + batch_size], views)
        yield np.asarray(model(inputs, training=False), dtype=np.float64).reshape(views, len(chunk), -1)


def predict_arrays(
    model: Any, images: np.ndarray, meta: np.ndarray | None = None, views: int = 1, batch_size: int = 32
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


def predict_logits(
    model: Any, images: np.ndarray, meta: np.ndarray | None = None, views: int = 1, batch_size: int = 32
) -> np.ndarray:
    """Logits of uint8 images (and their metadata vectors), averaged over `views` dihedral views."""
    return np.concatenate([logits.mean(axis=0) for logits in view_outputs(model, images, meta, views, batch_size)])


def logits_model(exported: Any) -> Any:
    """The logits model inside an exported (calibrated) model."""
    return exported.get_layer("lesion_classifier")


class PhotoTypeDetected:
    """A multi-source model seen as image (+ metadata) in, 7 probabilities out, the photo type detected.

    Lets `predict_arrays` and the HAM10000 evaluation score it like the earlier two-input models.
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, inputs: tuple[np.ndarray, np.ndarray] | list[np.ndarray], training: bool = False) -> np.ndarray:
        batch, meta = inputs
        given = np.zeros((len(batch), 2), dtype=np.float32)
        return np.asarray(self.model([batch, meta, given], training=training))[:, : len(CLASSES)]


def cnn_outputs(cnn: Any, images: np.ndarray, views: int = 1, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """(pooled features, logits) of a logits CNN for uint8 images, float64, averaged over `views` dihedral views."""
    import keras

    features = keras.Model(cnn.inputs, cnn.get_layer("head_dropout").input)
    x = keras.Input(cnn.input_shape[1:])
    f = features(x)
    both = keras.Model(x, [f, cnn.get_layer("logits")(f)])
    feats, logits = [], []
    for start in range(0, len(images), batch_size):
        chunk = np.asarray(images[start : start + batch_size])
        f_out, l_out = both.predict_on_batch(dihedral_views(chunk, views).astype(np.float32))
        feats.append(np.asarray(f_out, dtype=np.float64).reshape(views, len(chunk), -1).mean(axis=0))
        logits.append(np.asarray(l_out, dtype=np.float64).reshape(views, len(chunk), -1).mean(axis=0))
    return np.concatenate(feats), np.concatenate(logits)
