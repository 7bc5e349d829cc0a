"""The reference finders on drawn photos of the cases the size study showed them missing.

- A coin's raised rim and groove draw a circle inside its edge: the edge against the skin is its size.
- A card whose outline is not one closed loop (it lies half on a dark patch, a band crosses its print)
  is found by its four straight sides.
- A "ruler" of printed ticks across a coin or inside a card, and a card-shaped patch far smaller than a
  card, are not references.
"""

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from measurement import references
from measurement.references import Candidate
from measurement.scale import _ruler_on, find_scale

SKIN = (214, 170, 150)
EURO_MM = 23.25


def _skin(width: int = 1200, height: int = 900, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 4, (height, width, 1))
    return Image.fromarray(np.clip(np.array(SKIN, dtype=np.float64) + noise, 0, 255).astype(np.uint8))


def _coin_with_rim(photo: Image.Image, centre: tuple[int, int], radius: float) -> None:
    """A coin whose rim is lit nearly the skin's colour (a soft edge against the skin) inside which a dark
    groove at 0.82-0.86 r draws a crisper circle."""
    draw = ImageDraw.Draw(photo)
    cx, cy = centre

    def disc(r: float, colour: tuple[int, int, int]) -> None:
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)

    disc(radius, (225, 185, 140))  # the rim
    disc(0.86 * radius, (120, 92, 40))  # the groove, dark and crisp
    disc(0.82 * radius, (200, 160, 70))  # the face


def test_a_coins_edge_is_its_rim_against_the_skin_not_the_groove_inside():
    photo = _skin()
    _coin_with_rim(photo, (420, 400), 120.0)
    scale = find_scale(photo, coin_diameter_mm=EURO_MM)
    assert scale.ok and scale.source == "coin", scale
    # the groove would give 0.84 of the diameter: 16% off
    assert EURO_MM / scale.mm_per_pixel == pytest.approx(240.0, rel=0.02)


def _card(photo: Image.Image, corner: tuple[int, int], long_px: float, angle_deg: float) -> np.ndarray:
    """A white ID-1 card with a red band along it; returns its corners."""
    short_px = long_px * 53.98 / 85.60
    a = math.radians(angle_deg)
    along, across = np.array([math.cos(a), math.sin(a)]), np.array([-math.sin(a), math.cos(a)])
    origin = np.array(corner, dtype=np.float64)
    corners = np.array(
        [origin, origin + long_px * along, origin + long_px * along + short_px * across, origin + short_px * across]
    )
    draw = ImageDraw.Draw(photo)
    draw.polygon([tuple(p) for p in corners], fill=(246, 246, 240))
    band = [origin + 0.3 * short_px * across, origin + long_px * along + 0.3 * short_px * across]
    band += [band[1] + 0.2 * short_px * across, band[0] + 0.2 * short_px * across]
    draw.polygon([tuple(p) for p in band], fill=(200, 30, 60))
    return corners


def test_a_card_lying_half_on_a_dark_patch_is_found_by_its_four_sides():
    photo = _skin(seed=1)
    ImageDraw.Draw(photo).rectangle([0, 0, 520, 900], fill=(60, 40, 35))  # a dark patch the card overlaps
    corners = _card(photo, (380, 250), 520.0, 12.0)
    work = references.working_copy(photo)
    lab = references.lab_image(work.rgb)
    cards = references.find_cards(work, lab)
    assert cards, "no card found"
    found = np.array(cards[0].reference["corners"]) * np.array(photo.size)
    # each corner found within 1.5% of the long side (a drawn card has square corners)
    nearest = [np.min(np.hypot(*(found - c).T)) for c in corners]
    assert max(nearest) < 0.015 * 520.0
    assert 85.60 / cards[0].mm_per_pixel == pytest.approx(520.0, rel=0.02)


def test_a_card_sized_patch_far_smaller_than_a_card_beside_a_lesion_is_not_one():
    photo = _skin(seed=2)
    _card(photo, (500, 400), 70.0, 5.0)  # 70 px in a 1200 px photo: a band, a chip or a stamp, not a card
    work = references.working_copy(photo)
    assert references.find_cards(work, references.lab_image(work.rgb)) == []


def _candidate(kind: str, reference: dict) -> Candidate:
    return Candidate(kind=kind, pixels=10.0, millimetres=1.0, relative_uncertainty=0.01, reference=reference)


def test_a_ruler_across_a_coin_or_inside_a_card_is_its_relief_or_print():
    coin = _candidate("coin", {"kind": "coin", "centre": [0.5, 0.5], "radius_x": 0.1})
    card = _candidate("card", {"kind": "card", "corners": [[0.1, 0.1], [0.4, 0.1], [0.4, 0.3], [0.1, 0.3]]})
    across_coin = _candidate("ruler", {"kind": "ruler", "line": [[0.45, 0.3], [0.55, 0.7]]})
    in_card = _candidate("ruler", {"kind": "ruler", "line": [[0.15, 0.2], [0.35, 0.2]]})
    apart = _candidate("ruler", {"kind": "ruler", "line": [[0.7, 0.8], [0.95, 0.8]]})
    assert _ruler_on(across_coin, coin, 800, 600) and not _ruler_on(across_coin, card, 800, 600)
    assert _ruler_on(in_card, card, 800, 600) and not _ruler_on(in_card, coin, 800, 600)
    assert not _ruler_on(apart, coin, 800, 600) and not _ruler_on(apart, card, 800, 600)
