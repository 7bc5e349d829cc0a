"""How many millimetres one pixel of a photo covers: a reference of known size in the photo.

A scale comes from one of:
- a **coin** the patient chose once (COINS: official diameters), found as a circle or, tilted, an ellipse;
- an **ID-1 card** (bank, loyalty or ID card: 85.60 x 53.98 mm), found as a bright rounded rectangle;
- a **ruler** with millimetre ticks (many dermoscopy photos carry one at the edge), found by the period of
  its ticks;
- a **phone dermatoscope** calibrated once (its field of view is fixed), rescaled by the photo's width;
- two points the patient marked on the photo and their distance (the manual fallback).

Every scale carries its uncertainty (one standard deviation, relative) from the reference's fit and its
size in pixels; `mm_per_pixel` is always in the pixels of the ORIGINAL photo as stored. When no scale can
be trusted, `ok` is False and `reason` is a code of REASONS (plain words for the patient). Pure: numpy,
scikit-image and Pillow, no Django.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from measurement import references

# Official diameters in millimetres (mints' specifications). Key -> (plain label, diameter mm).
COINS: dict[str, tuple[str, float]] = {
    # Euro (all euro countries share the sizes)
    "eur_1c": ("1 euro cent", 16.25),
    "eur_2c": ("2 euro cent", 18.75),
    "eur_5c": ("5 euro cent", 21.25),
    "eur_10c": ("10 euro cent", 19.75),
    "eur_20c": ("20 euro cent", 22.25),
    "eur_50c": ("50 euro cent", 24.25),
    "eur_1": ("1 euro", 23.25),
    "eur_2": ("2 euro", 25.75),
    # US dollar
    "usd_1c": ("US penny (1 cent)", 19.05),
    "usd_5c": ("US nickel (5 cents)", 21.21),
    "usd_10c": ("US dime (10 cents)", 17.91),
    "usd_25c": ("US quarter (25 cents)", 24.26),
    "usd_50c": ("US half dollar (50 cents)", 30.61),
    "usd_1": ("US 1 dollar coin", 26.49),
    # Pound sterling
    "gbp_1p": ("1 penny (UK)", 20.30),
    "gbp_2p": ("2 pence (UK)", 25.90),
    "gbp_5p": ("5 pence (UK)", 18.00),
    "gbp_10p": ("10 pence (UK)", 24.50),
    "gbp_20p": ("20 pence (UK)", 21.40),
    "gbp_50p": ("50 pence (UK)", 27.30),
    "gbp_1": ("1 pound (UK, 12-sided)", 23.43),
    "gbp_2": ("2 pounds (UK)", 28.40),
    # Brazilian real (second family, 1998 on)
    "brl_1c": ("1 centavo (Brazil)", 17.00),
    "brl_5c": ("5 centavos (Brazil)", 22.00),
    "brl_10c": ("10 centavos (Brazil)", 20.00),
    "brl_25c": ("25 centavos (Brazil)", 25.00),
    "brl_50c": ("50 centavos (Brazil)", 23.00),
    "brl_1": ("1 real (Brazil)", 27.00),
    # Swiss franc
    "chf_5c": ("5 Rappen (Swiss)", 17.15),
    "chf_10c": ("10 Rappen (Swiss)", 19.15),
    "chf_20c": ("20 Rappen (Swiss)", 21.05),
    "chf_50c": ("half franc (Swiss)", 18.20),
    "chf_1": ("1 franc (Swiss)", 23.20),
    "chf_2": ("2 francs (Swiss)", 27.40),
    "chf_5": ("5 francs (Swiss)", 31.45),
    # Canadian dollar
    "cad_1c": ("1 cent (Canada)", 19.05),
    "cad_5c": ("5 cents (Canada)", 21.20),
    "cad_10c": ("10 cents (Canada)", 18.03),
    "cad_25c": ("25 cents (Canada)", 23.88),
    "cad_1": ("1 dollar, loonie (Canada)", 26.50),
    "cad_2": ("2 dollars, toonie (Canada)", 28.00),
}

ID1_CARD_MM = (85.60, 53.98)  # ISO/IEC 7810 ID-1: bank cards, loyalty cards, most ID cards

COIN = "coin"
CARD = "card"
RULER = "ruler"
DEVICE = "device"
MANUAL = "manual"
SOURCES = (COIN, CARD, RULER, DEVICE, MANUAL)

# Reason codes (stable: stored in Analysis.measures["size"]) and their plain words.
NO_REFERENCE = "no_reference"
TWO_COINS = "two_coins"
COIN_OVER_LESION = "coin_over_lesion"
REFERENCE_TOO_SMALL = "reference_too_small"
DISAGREES_WITH_DEVICE = "disagrees_with_device"
BAD_MANUAL_POINTS = "bad_manual_points"
NO_OUTLINE = "no_outline"
ERROR = "error"
REASONS: dict[str, str] = {
    NO_REFERENCE: "We could not find a coin, card or ruler in the photo, so we cannot tell its size in mm.",
    TWO_COINS: "We see two coins and cannot tell which one you chose. Use just one coin.",
    COIN_OVER_LESION: "The coin covers part of the spot. Put the coin next to the spot, not on it.",
    REFERENCE_TOO_SMALL: "The coin, card or ruler is too small in the photo to measure. Move the camera closer.",
    DISAGREES_WITH_DEVICE: "The size from the coin or ruler does not match your dermatoscope's setting. "
    "Check the coin you chose, or set up the dermatoscope again.",
    BAD_MANUAL_POINTS: "The two points are too close together or the distance is not right. "
    "Mark two points further apart and give their distance in mm.",
    NO_OUTLINE: "We could not find the edge of the spot, so we cannot measure it.",
    ERROR: "Something went wrong while measuring the size. Please try again.",
}

CLICK_ERROR_PX = 1.5  # one standard deviation of a marked point, each end, in photo pixels
MIN_MANUAL_PX = 10.0  # two marked points closer than this cannot give a useful scale


@dataclass(frozen=True)
class Scale:
    """A photo's scale, or why there is none.

    `reference` is the geometry found, for display, in fractions of the photo's width and height:
    coin {"kind": "coin", "centre": [x, y], "radius_x": r} (r as a fraction of the width; an ellipse also
    has "radius_y" and "angle"), card {"kind": "card", "corners": [[x, y] * 4]}, ruler
    {"kind": "ruler", "line": [[x, y], [x, y]]}, manual {"kind": "manual", "points": [[x, y], [x, y]]}.
    `reason` is a code of REASONS when not ok (a warning code, or None, when ok).
    """

    ok: bool
    source: str | None
    mm_per_pixel: float | None
    relative_uncertainty: float | None
    reason: str | None = None
    reference: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe, with the reason's plain words for display."""
        return {
            "ok": self.ok,
            "source": self.source,
            "mm_per_pixel": None if self.mm_per_pixel is None else float(self.mm_per_pixel),
            "relative_uncertainty": None if self.relative_uncertainty is None else float(self.relative_uncertainty),
            "reason": self.reason,
            "reason_text": REASONS.get(self.reason or "", ""),
            "reference": _json_safe(self.reference),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scale:
        mm = data.get("mm_per_pixel")
        rel = data.get("relative_uncertainty")
        return cls(
            ok=bool(data.get("ok")),
            source=data.get("source"),
            mm_per_pixel=None if mm is None else float(mm),
            relative_uncertainty=None if rel is None else float(rel),
            reason=data.get("reason"),
            reference=dict(data.get("reference") or {}),
        )

    @property
    def mm_sd(self) -> float | None:
        """One standard deviation of mm_per_pixel, absolute."""
        if self.mm_per_pixel is None or self.relative_uncertainty is None:
            return None
        return self.mm_per_pixel * self.relative_uncertainty


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    return round(float(value), 6)


def refused(reason: str, reference: dict[str, Any] | None = None, source: str | None = None) -> Scale:
    """No usable scale, and why (a code of REASONS)."""
    return Scale(
        ok=False, source=source, mm_per_pixel=None, relative_uncertainty=None, reason=reason, reference=reference or {}
    )


def manual_scale(points: list[list[float]], distance_mm: float, *, width: int, height: int) -> Scale:
    """The scale from two points marked on the photo (fractions of width and height) `distance_mm` apart.

    The uncertainty is the click error (CLICK_ERROR_PX at each end) over the marked length in pixels.
    """
    try:
        (x1, y1), (x2, y2) = ((float(p[0]), float(p[1])) for p in points)
        distance = float(distance_mm)
    except (TypeError, ValueError, IndexError):
        return refused(BAD_MANUAL_POINTS, source=MANUAL)
    coords = (x1, y1, x2, y2, distance)
    if len(points) != 2 or not all(math.isfinite(v) for v in coords) or width <= 0 or height <= 0:
        return refused(BAD_MANUAL_POINTS, source=MANUAL)
    if not all(0.0 <= v <= 1.0 for v in coords[:4]) or distance <= 0.0:
        return refused(BAD_MANUAL_POINTS, source=MANUAL)
    length_px = math.hypot((x2 - x1) * width, (y2 - y1) * height)
    reference = {"kind": MANUAL, "points": [[x1, y1], [x2, y2]]}
    if length_px < MIN_MANUAL_PX:
        return refused(BAD_MANUAL_POINTS, reference, source=MANUAL)
    return Scale(
        ok=True,
        source=MANUAL,
        mm_per_pixel=distance / length_px,
        relative_uncertainty=CLICK_ERROR_PX * math.sqrt(2.0) / length_px,
        reference=reference,
    )


def device_scale(mm_per_pixel_at: float, relative_uncertainty: float, *, calibrated_width: int, width: int) -> Scale:
    """A phone dermatoscope's fixed field, calibrated on a photo `calibrated_width` pixels wide.

    The same field photographed at another resolution covers the same millimetres: rescale by width.
    """
    values = (mm_per_pixel_at, relative_uncertainty, calibrated_width, width)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        return refused(NO_REFERENCE, source=DEVICE)
    if mm_per_pixel_at <= 0 or calibrated_width <= 0 or width <= 0 or relative_uncertainty < 0:
        return refused(NO_REFERENCE, source=DEVICE)
    return Scale(
        ok=True,
        source=DEVICE,
        mm_per_pixel=mm_per_pixel_at * calibrated_width / width,
        relative_uncertainty=float(relative_uncertainty),
        reference={"kind": DEVICE},
    )


AGREE_SIGMAS = 2.0  # two scales agree when they differ by less than 2 combined standard deviations


def agree(found: Scale, device: Scale) -> bool:
    """Whether two scales of the same photo agree within their combined uncertainty (2 sd).

    A scale that is not ok agrees with anything (there is nothing to disagree with).
    """
    if not (found.ok and device.ok) or found.mm_per_pixel is None or device.mm_per_pixel is None:
        return True
    sd = math.hypot(found.mm_sd or 0.0, device.mm_sd or 0.0)
    return abs(found.mm_per_pixel - device.mm_per_pixel) <= AGREE_SIGMAS * sd + 1e-12


MIN_COIN_PX = 25.0  # a coin narrower than this (original pixels) is too small to measure
MIN_CARD_PX = 80.0  # a card's long side
MIN_RULER_PERIOD_PX = 3.0  # a millimetre tick period
LESION_IS_COIN_IOU = 0.5  # a "coin" that is the lesion's own outline is the lesion, not a coin
COIN_OVER_LESION_SHARE = 0.05  # the share of the lesion (or of the coin) they overlap by
# Each source's own floor of relative uncertainty (one sd): what the fit cannot see (perspective between
# the reference and the lesion, the reference not lying flat, a ruler's printing). Chosen so that the true
# long diameter falls within 1 sd in about 68% of the size study's scenes of ANOTHER seed (seed 1: coin
# 0.025, card 0.05, ruler 0.04); reports/size.md (seed 0) shows how well that holds.
FLOOR = {COIN: 0.03, CARD: 0.05, RULER: 0.04}


def find_scale(image: Any, *, coin_diameter_mm: float | None = None, lesion_mask: np.ndarray | None = None) -> Scale:
    """The photo's scale from a coin (when `coin_diameter_mm` is given), an ID-1 card or a ruler; never raises.

    `lesion_mask` (any size, True on the lesion) lets it refuse a coin lying over the lesion and ignore a
    round lesion that looks like a coin. Refuses with "two_coins" when two coins are seen, and
    "reference_too_small" when the only reference found is too small to measure.
    """
    try:
        return _find_scale(image, coin_diameter_mm, lesion_mask)
    except Exception:  # noqa: BLE001 (a photo that breaks the finder has no scale; it never fails an analysis)
        return refused(ERROR)


def _find_scale(image: Any, coin_mm: float | None, lesion_mask: np.ndarray | None) -> Scale:
    work = references.working_copy(image)
    height, width = work.grey.shape
    lab = references.lab_image(work.rgb)
    edges = references.find_edges(lab)
    found: list[references.Candidate] = []
    refusals: list[Scale] = []
    if coin_mm is not None and math.isfinite(coin_mm) and coin_mm > 0:
        mask = _resized_mask(lesion_mask, (height, width))
        coins = []
        for coin in references.find_coins(work, float(coin_mm), lab, edges):
            disc = references.disc_mask(coin, (height, width))
            if mask is not None and mask.any():
                overlap = float((disc & mask).sum())
                if overlap / float((disc | mask).sum()) >= LESION_IS_COIN_IOU:
                    continue  # the lesion itself
                if overlap / min(float(disc.sum()), float(mask.sum())) >= COIN_OVER_LESION_SHARE:
                    refusals.append(refused(COIN_OVER_LESION, coin.reference, COIN))
                    continue
            coins.append(coin)
        if len(coins) >= 2:
            return refused(TWO_COINS, {"kind": "coins", "coins": [c.reference for c in coins[:4]]}, COIN)
        found += coins
    found += references.find_cards(work, lab)
    # a "ruler" across a coin or inside a card is its relief or print
    found += [r for r in references.find_rulers(work) if not any(_ruler_on(r, other, width, height) for other in found)]
    usable = []
    for candidate in found:
        minimum = {COIN: MIN_COIN_PX, CARD: MIN_CARD_PX, RULER: MIN_RULER_PERIOD_PX}[candidate.kind]
        size = candidate.pixels if candidate.kind == RULER else candidate.size_px
        if size < minimum:
            refusals.append(refused(REFERENCE_TOO_SMALL, candidate.reference, candidate.kind))
        else:
            usable.append(candidate)
    if usable:
        best = min(usable, key=lambda c: math.hypot(c.relative_uncertainty, FLOOR[c.kind]))
        return Scale(
            ok=True,
            source=best.kind,
            mm_per_pixel=best.mm_per_pixel,
            relative_uncertainty=math.hypot(best.relative_uncertainty, FLOOR[best.kind]),
            reference=best.reference,
        )
    if refusals:
        return refusals[0]
    return refused(NO_REFERENCE)


def _ruler_on(ruler: references.Candidate, other: references.Candidate, width: int, height: int) -> bool:
    """Whether a ruler's line crosses a coin's disc or has its middle inside a card (working pixels)."""
    (x0, y0), (x1, y1) = ((x * width, y * height) for x, y in ruler.reference["line"])
    if other.kind == COIN:
        cx, cy = other.reference["centre"][0] * width, other.reference["centre"][1] * height
        radius = other.reference["radius_x"] * width
        dx, dy = x1 - x0, y1 - y0
        t = min(1.0, max(0.0, ((cx - x0) * dx + (cy - y0) * dy) / max(dx * dx + dy * dy, 1e-9)))
        return math.hypot(x0 + t * dx - cx, y0 + t * dy - cy) <= 1.1 * radius
    if other.kind == CARD:
        corners = np.array(other.reference["corners"]) * np.array([width, height])
        return _inside(corners, ((x0 + x1) / 2.0, (y0 + y1) / 2.0))
    return False


def _inside(polygon: np.ndarray, point: tuple[float, float]) -> bool:
    """Whether a point lies inside a convex polygon (its corners in order, either direction)."""
    x, y = point
    signs = []
    for (ax, ay), (bx, by) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        signs.append((bx - ax) * (y - ay) - (by - ay) * (x - ax) > 0)
    return all(signs) or not any(signs)


def _resized_mask(mask: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    if mask is None:
        return None
    array = np.asarray(mask).astype(bool)
    if array.ndim != 2:
        return None
    if array.shape != shape:
        picture = Image.fromarray(array.astype(np.uint8) * 255).resize((shape[1], shape[0]), Image.Resampling.NEAREST)
        array = np.asarray(picture) > 127
    return array
