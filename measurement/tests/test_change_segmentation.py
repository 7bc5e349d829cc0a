"""Automatic lesion outline: committed test photos against outlines checked by eye, and synthetic photos."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from measurement.segmentation import NO_CLEAR_OUTLINE, NO_CONTRAST, segment_lesion

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"
ACCEPTED = [
    "0024314",
    "0024317",
    "0024331",
    "0024337",
    "0024403",
    "0024516",
    "0024646",
    "0025197",
    "0025596",
    "0025911",
]
MIN_IOU = 0.9


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _reference(name: str) -> np.ndarray:
    return np.asarray(Image.open(TESTDATA / "change_masks" / f"ISIC_{name}.png")).astype(bool)


def _photo(name: str) -> Image.Image:
    return Image.open(TESTDATA / "ham10000" / f"ISIC_{name}.jpg")


@pytest.mark.parametrize("name", ACCEPTED)
def test_outline_matches_the_reference_checked_by_eye(name):
    result = segment_lesion(_photo(name))
    assert result.ok, result.reason
    assert result.mask.shape == (150, 200) and result.mask.dtype == bool
    assert _iou(result.mask, _reference(name)) >= MIN_IOU


@pytest.mark.xfail(strict=True, reason="known miss: a large faint keratosis, only its darkest patch is outlined")
def test_faint_keratosis_against_a_hand_drawn_outline():
    assert _iou(segment_lesion(_photo("0024382")).mask, _reference("0024382")) >= MIN_IOU


def test_barely_visible_lesion_under_hairs_is_refused():
    result = segment_lesion(_photo("0025903"))
    assert not result.ok and result.reason == NO_CLEAR_OUTLINE


def _synthetic(shape=(300, 400), vignette=False) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    skin = np.array([225, 180, 160], dtype=float)
    image = np.broadcast_to(skin, (*shape, 3)).copy()
    disc = (rows - 160) ** 2 + (cols - 210) ** 2 < 60**2
    image[disc] = (110, 70, 50)
    if vignette:
        corner = (rows - shape[0] / 2) ** 2 + (cols - shape[1] / 2) ** 2 > (0.55 * shape[1]) ** 2
        image[corner] = (5, 5, 5)
    noise = np.random.default_rng(0).normal(0, 3, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8), disc


@pytest.mark.parametrize("vignette", [False, True])
def test_dark_disc_on_skin_is_outlined_and_dark_corners_are_ignored(vignette):
    image, disc = _synthetic(vignette=vignette)
    result = segment_lesion(Image.fromarray(image))
    assert result.ok, result.reason
    assert result.mask.shape == disc.shape
    assert _iou(result.mask, disc) >= 0.9


def test_plain_skin_has_no_lesion():
    image = np.clip(np.random.default_rng(1).normal((225, 180, 160), 3, (150, 200, 3)), 0, 255).astype(np.uint8)
    result = segment_lesion(image)
    assert not result.ok and result.reason == NO_CONTRAST
