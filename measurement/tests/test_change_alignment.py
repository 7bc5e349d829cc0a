"""Alignment of a later photo to an earlier one: known rotations, scales and shifts are recovered."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import transform

from measurement.alignment import align_photos, warp_to_earlier

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "ham10000"
SCALE_TOLERANCE = 0.03  # relative
ROTATION_TOLERANCE = 2.0  # degrees
POSITION_TOLERANCE = 2.0  # pixels of the earlier photo


def _photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(TESTDATA / f"ISIC_{name}.jpg").convert("RGB"))


def _moved(
    image: np.ndarray, *, scale: float, degrees: float, shift: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """The photo as if taken again, zoomed, turned and shifted about its centre; and that motion."""
    height, width = image.shape[:2]
    centre = np.array([width / 2, height / 2])
    to_centre = transform.SimilarityTransform(translation=-centre)
    motion = transform.SimilarityTransform(scale=scale, rotation=np.radians(degrees))
    back = transform.SimilarityTransform(translation=centre + np.array(shift))
    earlier_to_later = back.params @ motion.params @ to_centre.params
    later = transform.warp(image, np.linalg.inv(earlier_to_later), output_shape=image.shape[:2], preserve_range=True)
    return later.astype(np.uint8), earlier_to_later


@pytest.mark.parametrize(
    ("name", "scale", "degrees", "shift"),
    [
        ("0024317", 1.25, 20.0, (8.0, -5.0)),
        ("0024516", 0.8, -35.0, (-6.0, 4.0)),
        ("0024403", 1.0, 90.0, (0.0, 0.0)),
    ],
)
def test_known_motion_is_recovered(name, scale, degrees, shift):
    earlier = _photo(name)
    later, earlier_to_later = _moved(earlier, scale=scale, degrees=degrees, shift=shift)
    alignment = align_photos(earlier, later)
    assert alignment.ok, alignment.reason
    assert alignment.scale == pytest.approx(1 / scale, rel=SCALE_TOLERANCE)
    assert alignment.rotation_degrees == pytest.approx(-degrees, abs=ROTATION_TOLERANCE)
    # Points of the later photo land where they came from in the earlier one.
    points = np.array([[60.0, 50.0, 1.0], [140.0, 100.0, 1.0], [100.0, 75.0, 1.0]]).T
    recovered = alignment.matrix @ earlier_to_later @ points
    assert np.abs(recovered - points)[:2].max() <= POSITION_TOLERANCE


def test_aligned_photo_overlays_the_earlier_one():
    earlier = _photo("0024317")
    later, _ = _moved(earlier, scale=1.2, degrees=15.0, shift=(5.0, 3.0))
    alignment = align_photos(earlier, later)
    overlay = warp_to_earlier(later, alignment, earlier.shape[:2])
    assert overlay.shape == earlier.shape
    centre = (slice(40, 110), slice(50, 150))  # away from the corners the later photo never saw
    difference = np.abs(overlay[centre].astype(int) - earlier[centre].astype(int)).mean()
    assert difference < 12


@pytest.mark.parametrize(("a", "b"), [("0024317", "0025197"), ("0024516", "0024646"), ("0024403", "0025911")])
def test_photos_of_different_lesions_are_not_aligned(a, b):
    alignment = align_photos(_photo(a), _photo(b))
    assert not alignment.ok
    assert alignment.matrix is None and alignment.reason
    with pytest.raises(ValueError):
        warp_to_earlier(_photo(b), alignment, (150, 200))


def test_blank_photo_has_nothing_to_match():
    blank = np.full((150, 200, 3), 200, dtype=np.uint8)
    alignment = align_photos(_photo("0024317"), blank)
    assert not alignment.ok and alignment.reason == "not_enough_features"
