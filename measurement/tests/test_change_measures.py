"""Lesion measures on synthetic shapes and colours whose answers are known."""

import numpy as np
import pytest

from measurement.measures import (
    LesionMeasures,
    asymmetry,
    border_irregularity,
    colour_shares,
    measure_lesion,
    relative_area,
)

SKIN = (225, 180, 160)


def _grid(size=300):
    rows, cols = np.mgrid[:size, :size]
    return rows - size / 2, cols - size / 2


def _disc(radius=80, size=300):
    rows, cols = _grid(size)
    return rows**2 + cols**2 < radius**2


def _ellipse(a=100, b=50, angle=0.0, size=300):
    rows, cols = _grid(size)
    x = cols * np.cos(angle) + rows * np.sin(angle)
    y = -cols * np.sin(angle) + rows * np.cos(angle)
    return (x / a) ** 2 + (y / b) ** 2 < 1


def _star(points=7, size=300):
    rows, cols = _grid(size)
    radius = 70 + 35 * np.cos(points * np.arctan2(rows, cols))
    return np.hypot(rows, cols) < radius


def _teardrop(size=300):
    # A disc with a large bump on one side only: symmetric about one axis, not the other.
    rows, cols = _grid(size)
    return (rows**2 + cols**2 < 60**2) | ((rows**2 + (cols - 70) ** 2 < 35**2) & (np.abs(rows) < 35))


def test_circle_is_symmetric_and_regular():
    assert asymmetry(_disc()) < 0.03
    assert border_irregularity(_disc()) == pytest.approx(1.0, abs=0.05)


def test_ellipse_is_symmetric_at_any_angle_and_slightly_elongated():
    for angle in (0.0, 0.6, 1.2):
        assert asymmetry(_ellipse(angle=angle)) < 0.05
    # Compactness of a 2:1 ellipse is 1.19 (Ramanujan's perimeter).
    assert border_irregularity(_ellipse()) == pytest.approx(1.19, abs=0.05)


def test_star_is_irregular():
    assert border_irregularity(_star()) > 1.8
    assert border_irregularity(_star()) > border_irregularity(_ellipse()) + 0.5


def test_one_sided_bump_is_asymmetric():
    assert asymmetry(_teardrop()) > 0.1
    assert asymmetry(_teardrop()) > asymmetry(_disc()) + 0.08


def test_measures_do_not_depend_on_the_lesion_size_in_pixels():
    small, large = _star(size=300), _star(size=300)
    small = small[::3, ::3]  # the same star photographed from three times further away
    assert border_irregularity(small) == pytest.approx(border_irregularity(large), rel=0.1)
    assert asymmetry(small) == pytest.approx(asymmetry(large), abs=0.05)


def _photo(mask, colours):
    """A skin-coloured photo with the lesion painted in vertical bands of `colours` (RGB 0-255)."""
    image = np.empty((*mask.shape, 3), dtype=np.uint8)
    image[:] = SKIN
    cols = np.nonzero(mask.any(axis=0))[0]
    bands = np.array_split(np.arange(cols.min(), cols.max() + 1), len(colours))
    for band, rgb in zip(bands, colours, strict=True):
        stripe = np.zeros_like(mask)
        stripe[:, band] = True
        image[mask & stripe] = rgb
    return image


def test_colours_present_are_found_and_skin_counts_for_none():
    mask = _disc()
    image = _photo(mask, [(60, 25, 15), (150, 100, 40), (60, 110, 120)])
    shares = colour_shares(image, mask)
    present = {name for name, share in shares.items() if share >= 0.05}
    assert present == {"dark brown", "light brown", "blue-grey"}

    plain = _photo(mask, [SKIN])
    assert max(colour_shares(plain, mask).values()) < 0.05


def test_single_colour_lesion_counts_one_colour():
    mask = _disc()
    measures = measure_lesion(_photo(mask, [(60, 25, 15)]), mask)
    assert measures.colours == ("dark brown",)
    assert measures.colour_count == 1
    assert measures.area_pixels == int(mask.sum())


def test_measures_round_trip_through_a_dict():
    mask = _star()
    measures = measure_lesion(_photo(mask, [(60, 25, 15), (200, 60, 60)]), mask)
    again = LesionMeasures.from_dict(measures.as_dict())
    assert again.colours == measures.colours
    assert again.border_irregularity == pytest.approx(measures.border_irregularity, abs=1e-3)


def test_empty_mask_is_refused():
    with pytest.raises(ValueError):
        measure_lesion(np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10), bool))


def test_relative_area_uses_the_alignment_scale():
    # The later photo is taken from twice as far: the lesion covers a quarter of the pixels,
    # and the alignment scales it by 2 back to the earlier photo.
    assert relative_area(1000, 250, scale=2.0) == pytest.approx(1.0)
    assert relative_area(1000, 325, scale=2.0) == pytest.approx(1.3)
