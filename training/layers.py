"""Custom Keras layers saved inside the exported model (registered, so `load_model` finds them).

Imports Keras: import this module only where TensorFlow is already wanted (training, the worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras


@keras.saving.register_keras_serializable(package="skinsite")
class ShadesOfGray(keras.layers.Layer):
    """Colour constancy (Finlayson & Trezzi 2004): divide out each photo's estimated illuminant.

    The illuminant of an image is the Minkowski p-norm mean of each channel (p=6 is the usual
    choice for dermoscopy, e.g. Barata et al. 2015); each channel is scaled so the illuminant
    becomes grey. Different dermatoscopes, lamps and phone white balances then look alike to the
    model. Works on 0..255 RGB batches, inside the model, so every caller gets it for free.
    """

    def __init__(self, power: float = 6.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.power = float(power)

    def call(self, images: Any) -> Any:
        ops = keras.ops
        scaled = ops.clip(images / 255.0, 1e-4, 1.0)
        illuminant = ops.power(ops.mean(ops.power(scaled, self.power), axis=(1, 2), keepdims=True), 1.0 / self.power)
        gain = ops.mean(illuminant, axis=-1, keepdims=True) / illuminant
        return ops.clip(images * gain, 0.0, 255.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "power": self.power}


@keras.saving.register_keras_serializable(package="skinsite")
class PhotoTypeGate(keras.layers.Layer):
    """The photo type the fusion uses: the user's when given, else the detector's probability.

    Inputs: `clinical_probability` (n, 1) from the detector and `given` (n, 2) = [given, clinical].
    Output (n, 1 + k): `[t, t * logits]` for logits (n, k), where t is 1 for clinical, so the
    fusion layer can give clinical photos their own weights on the logits (a second head).
    """

    def call(self, inputs: Any) -> Any:
        clinical_probability, given, logits = inputs
        flag, value = given[:, 0:1], given[:, 1:2]
        t = flag * value + (1.0 - flag) * clinical_probability
        return keras.ops.concatenate([t, t * logits], axis=-1)


@keras.saving.register_keras_serializable(package="skinsite")
class MalignantRecalibration(keras.layers.Layer):
    """Recalibrate the malignant probability, keeping its ranking and the classes' proportions.

    Inputs: probabilities (n, k) and `PhotoTypeGate`'s output, whose first column is the photo
    type t. The malignant share m (sum over
    `malignant_index`) becomes m' = sigmoid(a * logit(m) + c + d * t); the malignant classes are
    scaled by m'/m and the benign ones by (1-m')/(1-m), so the 7 probabilities still sum to 1 and
    a higher m always gives a higher m' for one photo type (the AUC is unchanged).
    """

    def __init__(
        self,
        malignant_index: Sequence[int] = (0, 1, 4),
        a: float = 1.0,
        c: float = 0.0,
        d: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.malignant_index = tuple(int(i) for i in malignant_index)
        self.a, self.c, self.d = float(a), float(c), float(d)

    def call(self, inputs: Any) -> Any:
        ops = keras.ops
        probabilities, typed = inputs
        t = typed[:, :1]
        k = probabilities.shape[-1]
        mask = ops.convert_to_tensor([1.0 if i in self.malignant_index else 0.0 for i in range(k)])
        m = ops.clip(ops.sum(probabilities * mask, axis=-1, keepdims=True), 1e-6, 1 - 1e-6)
        m_new = ops.sigmoid(self.a * ops.log(m / (1 - m)) + self.c + self.d * t)
        scale = mask * (m_new / m) + (1 - mask) * ((1 - m_new) / (1 - m))
        return probabilities * scale

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "malignant_index": list(self.malignant_index),
            "a": self.a,
            "c": self.c,
            "d": self.d,
        }


@keras.saving.register_keras_serializable(package="skinsite")
class LesionFeatureChecks(keras.layers.Layer):
    """Two checks on the CNN's pooled features: is this a lesion photo like those it learnt from?

    Input: pooled features (n, d). Output (n, 2):
    - column 0, the distance from the lesion photos of every source: a probabilistic-PCA
      Mahalanobis distance, sqrt(sum_i z_i^2 / var_i + |r|^2 / residual_var) where z are the
      coordinates of x - mean on the top principal components and r the rest. A cat, a motorbike
      or a microscope slide lands far away even when its colours look like skin;
    - column 1, the probability that the photo shows skin with no lesion (a logistic regression on
      the L2-normalised features, lesion photos against plain skin from training-part phone photos).

    All weights are fixed (fitted by `training.feature_checks`), so the layer has no trainable part.
    """

    def __init__(self, dims: int = 1280, components: int = 128, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims, self.components = int(dims), int(components)
        self.mean = self.add_weight(shape=(self.dims,), initializer="zeros", trainable=False, name="mean")
        self.basis = self.add_weight(
            shape=(self.dims, self.components), initializer="zeros", trainable=False, name="basis"
        )
        self.inverse_variance = self.add_weight(
            shape=(self.components,), initializer="ones", trainable=False, name="inverse_variance"
        )
        self.inverse_residual_variance = self.add_weight(
            shape=(), initializer="ones", trainable=False, name="inverse_residual_variance"
        )
        self.skin_kernel = self.add_weight(
            shape=(self.dims, 1), initializer="zeros", trainable=False, name="skin_kernel"
        )
        self.skin_bias = self.add_weight(shape=(1,), initializer="zeros", trainable=False, name="skin_bias")

    def call(self, features: Any) -> Any:
        ops = keras.ops
        centred = features - self.mean
        z = ops.matmul(centred, self.basis)
        residual = ops.maximum(ops.sum(centred * centred, axis=-1) - ops.sum(z * z, axis=-1), 0.0)
        squared = ops.sum(z * z * self.inverse_variance, axis=-1) + residual * self.inverse_residual_variance
        distance = ops.sqrt(ops.maximum(squared, 0.0))
        unit = features / ops.maximum(ops.sqrt(ops.sum(features * features, axis=-1, keepdims=True)), 1e-12)
        no_lesion = ops.sigmoid(ops.matmul(unit, self.skin_kernel) + self.skin_bias)
        return ops.concatenate([distance[:, None], no_lesion], axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": self.dims, "components": self.components}
