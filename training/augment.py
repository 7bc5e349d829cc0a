"""Augmentation for photos from many sources: other dermatoscopes, phone cameras, other light.

`robust_augmenter` maps a uint8 batch to float32 0..255 in TensorFlow ops, so it runs inside
`tf.data` beside training. Each image gets:

- one affine warp: any rotation (a lesion has no "up"), a mirror, zoom 0.75-1.35 (phone photos
  frame the lesion at every scale), a little anisotropic stretch (0.9-1.1: the centre square of a
  4:3, 16:9 or 1:1 phone frame, a lens at an angle), and a shift of up to 10 % (the lesion is not
  always centred);
- light and camera: per-channel gains 0.8-1.2 (white balance; the Shades-of-Gray layer undoes
  most of it, the rest is what it cannot), gamma 0.7-1.4, brightness, contrast and saturation;
- focus and sensor: a Gaussian blur (sigma 0.5-2 px) for a third of the images, sensor noise;
- compression: JPEG re-encoding at quality 30-95 for half of the batches (phones and messaging
  apps compress, ISIC 2017's copies are quality ~75).

Imports TensorFlow: use only where it is already wanted (training).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

AUGMENTATION_DESCRIPTION = (
    "per image: affine warp (any rotation, mirror, zoom 0.75-1.35, anisotropic stretch 0.9-1.1, shift ±10 %, "
    "reflect fill); per-channel gain 0.8-1.2, gamma 0.7-1.4, saturation ±20 %, contrast ±20 %, brightness ±12 %; "
    "Gaussian blur sigma 0.5-2 px for 1/3 of images; sensor noise sigma 0-5; JPEG quality 30-95 for half the batches"
)


def _gaussian_kernel(sigma: Any) -> Any:
    import tensorflow as tf

    radius = 4
    x = tf.range(-radius, radius + 1, dtype=tf.float32)
    k = tf.exp(-(x**2) / (2.0 * sigma**2))
    k = k / tf.reduce_sum(k)
    return k


def affine_warp(
    x: Any,
    uniform: Callable[..., Any],
    *,
    zoom: tuple[float, float],
    shift: float,
    stretch: tuple[float, float] | None = None,
) -> Any:
    """One random affine warp per image of a float32 batch (both training recipes use it).

    Any rotation (a lesion has no "up") and a mirror (with rotation, both flips), a zoom drawn from
    `zoom` (> 1 zooms in), an anisotropic stretch from `stretch` if given, and a shift of up to
    `shift` of the side. Folded into one warp: four times faster than chaining Keras's random
    layers. `uniform(shape, low, high)` draws from the caller's generator, in the order angle,
    zoom, stretch (only when given), mirror, shift: a seed gives the pixels it always gave.
    """
    import tensorflow as tf

    n = tf.shape(x)[0]
    height, width = tf.cast(tf.shape(x)[1], tf.float32), tf.cast(tf.shape(x)[2], tf.float32)
    angle = uniform([n], -math.pi, math.pi)
    zx = zy = uniform([n], *zoom)
    if stretch is not None:
        aspect = uniform([n], *stretch)
        zx, zy = zx * aspect, zy / aspect
    mirror = tf.where(uniform([n], 0.0, 1.0) < 0.5, -1.0, 1.0)
    shift_x = uniform([n], -shift, shift) * width
    shift_y = uniform([n], -shift, shift) * height
    # The transform maps each output pixel to the input pixel it samples (about the centre).
    a0, a1 = mirror * tf.cos(angle) / zx, -tf.sin(angle) / zx
    b0, b1 = mirror * tf.sin(angle) / zy, tf.cos(angle) / zy
    cx, cy = (width - 1) / 2, (height - 1) / 2
    a2 = cx + shift_x - a0 * cx - a1 * cy
    b2 = cy + shift_y - b0 * cx - b1 * cy
    zeros = tf.zeros_like(a0)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=x,
        transforms=tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1),
        output_shape=tf.shape(x)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",  # mirrored skin, not black corners the model could learn from
    )


def robust_augmenter(seed: int) -> Callable[..., tuple[Any, ...]]:
    """A `tf.data` map function `(uint8 images, *rest) -> (float32 images, *rest)`."""
    import tensorflow as tf

    # A Generator keeps its state across epochs (seeded tf.random ops in Dataset.map would not).
    generator = tf.random.Generator.from_seed(seed)

    def uniform(shape: Any, low: float, high: float) -> Any:
        return generator.uniform(shape, low, high)

    def blur(x: Any) -> Any:
        sigma = uniform([], 0.5, 2.0)
        k = _gaussian_kernel(sigma)
        kx = tf.tile(tf.reshape(k, [1, -1, 1, 1]), [1, 1, 3, 1])
        ky = tf.tile(tf.reshape(k, [-1, 1, 1, 1]), [1, 1, 3, 1])
        padded = tf.pad(x, [[0, 0], [4, 4], [4, 4], [0, 0]], mode="REFLECT")
        out = tf.nn.depthwise_conv2d(padded, kx, [1, 1, 1, 1], "VALID")
        return tf.nn.depthwise_conv2d(out, ky, [1, 1, 1, 1], "VALID")

    def jpeg(x: Any) -> Any:
        quality = tf.cast(uniform([], 30.0, 95.0), tf.int32)

        def one(image: Any) -> Any:
            unit = tf.clip_by_value(image, 0.0, 255.0) / 255.0
            return tf.image.adjust_jpeg_quality(unit, quality) * 255.0

        return tf.map_fn(one, x, fn_output_signature=tf.float32)

    def apply(images: Any, *rest: Any) -> tuple[Any, ...]:
        x = tf.cast(images, tf.float32)
        n = tf.shape(x)[0]
        x = affine_warp(x, uniform, zoom=(0.75, 1.35), stretch=(0.9, 1.1), shift=0.1)
        # Light and camera.
        x = x * uniform([n, 1, 1, 3], 0.8, 1.2)
        x = 255.0 * tf.pow(tf.clip_by_value(x / 255.0, 0.0, 1.0), uniform([n, 1, 1, 1], 0.7, 1.4))
        grey = tf.reduce_mean(x, axis=-1, keepdims=True)
        x = grey + (x - grey) * uniform([n, 1, 1, 1], 0.8, 1.2)
        mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        x = (x - mean) * uniform([n, 1, 1, 1], 0.8, 1.2) + mean + uniform([n, 1, 1, 1], -30.0, 30.0)
        # Focus, noise, compression.
        blurred = blur(x)
        x = tf.where(uniform([n, 1, 1, 1], 0.0, 1.0) < 1 / 3, blurred, x)
        x = x + generator.normal(tf.shape(x)) * uniform([n, 1, 1, 1], 0.0, 5.0)
        x = tf.clip_by_value(x, 0.0, 255.0)
        x = tf.cond(uniform([], 0.0, 1.0) < 0.5, lambda: jpeg(x), lambda: x)
        return (x, *rest)

    return apply
