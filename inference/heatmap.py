"""Why the model said what it said: a Grad-CAM heatmap over the photo.

Grad-CAM (Selvaraju et al., 2017) weights each channel of the last convolutional feature map by
the mean gradient of the predicted class's score with respect to it, sums the channels and keeps
the positive part: the regions that pushed the model towards its answer. The map is as coarse as
the last convolution (1/32 of the input: 7 x 7 for the served 224 px model, 6 x 6 at 192 px), so it
shows *where*, not fine detail.

TensorFlow is imported lazily (only the worker computes heatmaps). The model is walked as a
chain of layers, nested models included: everything up to the last layer with a spatial (4-D)
output is the feature extractor, the rest the head. A metadata input (age, sex, body site) is a
side branch (`metadata_*` layers) that joins the head at its concatenation; it is computed once
and passed in there. The softmax (and any scaling after the logits)
is left out of the head, so the gradient is taken on the class logit, as in the paper.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from training.contract import METADATA_SIZE, to_rgb

OVERLAY_MAX_SIDE = 512  # the stored overlay is a preview, not a copy of the photo
OVERLAY_ALPHA = 0.45  # heat over the photo: enough to see both


class HeatmapUnavailable(RuntimeError):
    """The model's layers are not a chain this module can split (e.g. a second input)."""


@dataclass(frozen=True)
class Heatmap:
    """A class-activation map for one image: values 0..1 over the model's centre square crop."""

    values: np.ndarray  # (h, w) float32 0..1 at the last convolution's resolution
    class_index: int


METADATA_PREFIX = "metadata"  # training.train names the metadata input and branch layers so


def _plain(layers: list[Any]) -> list[Any]:
    """The image path through `layers`: no input layers, no metadata branch."""
    return [
        layer for layer in layers if type(layer).__name__ != "InputLayer" and not layer.name.startswith(METADATA_PREFIX)
    ]


def _chain(model: Any) -> list[Any]:
    """The model's image-path layers in call order."""
    names = [getattr(t, "name", "") for t in (getattr(model, "inputs", []) or [])]
    if len(names) != 1 and not (len(names) == 2 and any(n.startswith(METADATA_PREFIX) for n in names)):
        raise HeatmapUnavailable(f"cannot split a model with the inputs {names}")
    return _plain(model.layers)


def _metadata_branch(layers: list[Any]) -> list[Any]:
    """The `metadata_*` layers (not the input) in call order, searched in nested models too."""
    found = []
    for layer in layers:
        if type(layer).__name__ != "InputLayer" and layer.name.startswith(METADATA_PREFIX):
            found.append(layer)
        elif getattr(layer, "layers", None):
            found.extend(_metadata_branch(layer.layers))
    return found


def _rank4(layer: Any) -> bool:
    shape = getattr(layer, "output", None)
    shape = getattr(shape, "shape", None)
    return shape is not None and len(shape) == 4 and (shape[1] or 0) > 1


class GradCam:
    """Grad-CAM for one loaded Keras classifier (float32 0..255 batch in, class probabilities out)."""

    def __init__(self, model: Any) -> None:
        import keras

        outer = _chain(model)
        # Find the nested model holding the last spatial layer (the backbone inside our classifier).
        self._before: list[Any] = []
        self._features: Any = None
        self._after: list[Any] = []
        self._find(outer, keras)
        self._metadata = _metadata_branch(model.layers)
        # With a metadata input, the head's concatenation joins it (through its branch layers,
        # if any: a late-fusion layer takes the raw vector).
        self._takes_metadata = len(getattr(model, "inputs", []) or []) == 2
        if self._features is None:
            raise HeatmapUnavailable("no convolutional layer found")
        # Stop the head at the logits: drop a trailing softmax and the scaling folded in after it.
        while self._after and type(self._after[-1]).__name__ in ("Softmax", "Rescaling", "Activation"):
            self._after.pop()
        if not self._after:
            raise HeatmapUnavailable("no head after the last convolution")
        self._lock: threading.Lock = threading.Lock()
        self._traced: Any = None

    def _find(self, layers: list[Any], keras: Any) -> bool:
        """Split `layers` around the last spatial layer, descending into nested models."""
        for index in range(len(layers) - 1, -1, -1):
            layer = layers[index]
            inner = getattr(layer, "layers", None)
            if inner:
                # An input layer has a 4-D output too, but it is where a nested model starts.
                spatial = [sub for sub in inner if _rank4(sub) and type(sub).__name__ != "InputLayer"]
                inner_chain = _plain(inner)
                tail = inner_chain[inner_chain.index(spatial[-1]) + 1 :] if spatial else []
                # Recurse when the last convolution is deeper down: a wrapper whose only child is
                # another model (a CNN fine-tuned again and again nests one level deeper each
                # time), or a nested model whose tail is not a plain chain.
                if not spatial or any(_rank4(sub) for sub in tail) or not all(self._is_simple(sub) for sub in tail):
                    if self._find(inner_chain, keras):
                        self._before = layers[:index] + self._before
                        self._after = self._after + layers[index + 1 :]
                        return True
                    continue
                self._before = list(layers[:index])
                self._features = keras.Model(layer.inputs, spatial[-1].output)
                self._after = tail + list(layers[index + 1 :])
                return True
            elif _rank4(layer) and index < len(layers) - 1:
                self._before = list(layers[:index])
                self._features = layer
                self._after = list(layers[index + 1 :])
                return True
        return False

    @staticmethod
    def _is_simple(layer: Any) -> bool:
        # Layers a chain may hold after the last convolution: pooling, flattening, dropout, dense.
        return not getattr(layer, "layers", None)

    def _cam(self, x: Any, meta: Any, class_index: Any) -> tuple[Any, Any]:
        """(unnormalised map, class index) of a batch of one; class_index < 0 means the top class."""
        import tensorflow as tf

        for layer in self._metadata:
            meta = layer(meta, training=False)

        for layer in self._before:
            x = layer(x, training=False)
        with tf.GradientTape() as tape:
            features = self._features(x, training=False)
            tape.watch(features)
            y = features
            for layer in self._after:
                # The head's concatenation is where the metadata branch joins the image features.
                joined = type(layer).__name__ == "Concatenate" and self._takes_metadata
                y = layer([y, meta], training=False) if joined else layer(y, training=False)
            index = tf.where(class_index < 0, tf.argmax(y[0], output_type=tf.int32), class_index)
            score = tf.gather(y, index, axis=1)
        gradients = tape.gradient(score, features)
        weights = tf.reduce_mean(gradients, axis=(1, 2))  # one weight per channel
        cam = tf.nn.relu(tf.reduce_sum(features * weights[:, None, None, :], axis=-1))[0]
        return cam, index

    def compute(self, batch: np.ndarray, class_index: int | None = None, metadata: np.ndarray | None = None) -> Heatmap:
        """The heatmap of one prepared image (`batch` of shape (1, size, size, 3), 0..255 float32).

        `metadata` is the model's `(1, n)` metadata vector when it has that input (zeros if not given).
        """
        import tensorflow as tf

        if metadata is None:
            width = int(self._metadata[0].input.shape[-1]) if self._metadata else METADATA_SIZE
            metadata = np.zeros((1, width), dtype=np.float32)

        with self._lock:
            if self._traced is None:
                # Traced once: ~40 ms a heatmap instead of ~700 ms layer by layer in eager mode.
                self._traced = tf.function(self._cam, reduce_retracing=True)
            cam, index = self._traced(
                tf.convert_to_tensor(batch, dtype=tf.float32),
                tf.convert_to_tensor(metadata, dtype=tf.float32),
                tf.constant(-1 if class_index is None else class_index),
            )
        cam = cam.numpy()
        peak = float(cam.max())
        cam = cam / peak if peak > 0 else np.zeros_like(cam)
        return Heatmap(values=cam.astype(np.float32), class_index=int(index))


_gradcams: dict[int, GradCam] = {}
_gradcams_lock = threading.Lock()


def gradcam_for(model: Any) -> GradCam:
    """The Grad-CAM of a loaded model, built once per process (like the model itself)."""
    with _gradcams_lock:
        gradcam = _gradcams.get(id(model))
        if gradcam is None:
            gradcam = GradCam(model)
            _gradcams[id(model)] = gradcam
        return gradcam


def _colormap(values: np.ndarray) -> np.ndarray:
    """A blue → green → yellow → red ramp for 0..1 values (uint8 RGB), without matplotlib."""
    stops = np.array([0.0, 0.35, 0.65, 1.0])
    colours = np.array([[30, 60, 200], [40, 200, 120], [250, 220, 40], [220, 30, 30]], dtype=np.float64)
    channels = [np.interp(values, stops, colours[:, c]) for c in range(3)]
    return np.stack(channels, axis=-1).astype(np.uint8)


def overlay(image: Image.Image, heatmap: Heatmap, max_side: int = OVERLAY_MAX_SIDE) -> Image.Image:
    """The photo (same aspect ratio, at most `max_side`) with the heatmap over the centre square.

    The model sees only the centre square crop, so the rest of the photo is dimmed: the overlay
    can replace the photo on the page without changing its shape.
    """
    photo = to_rgb(ImageOps.exif_transpose(image))
    photo.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    width, height = photo.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    base = np.asarray(photo, dtype=np.float64)
    result = base * 0.35  # outside the square: dimmed
    heat = Image.fromarray((heatmap.values * 255).astype(np.uint8)).resize((side, side), Image.Resampling.BICUBIC)
    heat_values = np.asarray(heat, dtype=np.float64) / 255.0
    colours = _colormap(heat_values).astype(np.float64)
    alpha = OVERLAY_ALPHA * (0.3 + 0.7 * heat_values[..., None])  # cold areas stay readable
    square = base[top : top + side, left : left + side]
    result[top : top + side, left : left + side] = square * (1 - alpha) + colours * alpha
    return Image.fromarray(result.clip(0, 255).astype(np.uint8))


def overlay_jpeg(image: Image.Image, heatmap: Heatmap) -> bytes:
    """`overlay` encoded as a JPEG, ready for storage."""
    out = io.BytesIO()
    overlay(image, heatmap).save(out, format="JPEG", quality=85)
    return out.getvalue()
