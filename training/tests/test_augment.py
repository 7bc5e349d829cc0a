"""Both training recipes' augmentation: one affine warp, and a seed still gives the same pixels.

`training.train.augmenter` (the HAM10000-only recipe) and `training.augment.robust_augmenter`
(the multi-source one) share `training.augment.affine_warp`. The expected pixels in
`testdata/augment/seed0.npz` were written by both augmenters before they shared it (commit
31b0b61, each with its own copy of the warp), so a training run keeps its exact augmentation for
a seed: the same draws from the generator, in the same order, the same warp.
"""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.augment import robust_augmenter
from training.contract import METADATA_SIZE
from training.train import augmenter

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"
EXPECTED = TESTDATA / "augment" / "seed0.npz"


def _batch() -> np.ndarray:
    """Two committed test images at 20x16 px (non-square: the warp's x and y must not swap)."""
    files = sorted((TESTDATA / "ham10000").glob("*.jpg"))[:2]
    return np.stack([np.asarray(Image.open(f).convert("RGB").resize((20, 16))) for f in files])


def augmented(seed: int = 0) -> dict[str, np.ndarray]:
    """Each augmenter's output for two successive batches (the generator's state carries over)."""
    import tensorflow as tf

    images, labels = tf.constant(_batch()), tf.constant([0, 1])
    meta = tf.ones([2, METADATA_SIZE])
    out = {}
    ham = augmenter(seed)
    out["train_images"] = ham(images, labels)[0].numpy()
    (with_meta, dropped), _ = ham((images, meta), labels)  # metadata dropout draws first
    out["train_with_metadata"], out["train_metadata"] = with_meta.numpy(), dropped.numpy()
    robust = robust_augmenter(seed)
    out["robust_first"] = robust(images, labels)[0].numpy()
    out["robust_second"] = robust(images, labels)[0].numpy()
    return out


@pytest.mark.parametrize(
    "name", ["train_images", "train_with_metadata", "train_metadata", "robust_first", "robust_second"]
)
def test_a_seed_gives_the_pixels_it_gave_before_the_warp_was_shared(name):
    expected = np.load(EXPECTED)
    # Not to the bit: another CPU may round the last float digit of a warp differently.
    np.testing.assert_allclose(augmented()[name], expected[name], rtol=0, atol=1e-3)


def test_the_warp_moves_pixels_and_keeps_the_range():
    out = augmented(seed=1)
    base = _batch().astype(np.float32)
    for name in ("train_images", "robust_first"):
        assert out[name].shape == base.shape and out[name].dtype == np.float32
        assert out[name].min() >= 0.0 and out[name].max() <= 255.0
        assert not np.allclose(out[name], base, atol=1.0)
