"""The lesion's outline and measures on one photo, and what changed against an earlier photo.

Called by the worker (inference.services) after the CNN; pure (numpy, scikit-image, Pillow) and
built on `measurement`. A photo that cannot be outlined or a pair that cannot be aligned is
recorded with the reason, never raised: measuring never fails an analysis.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from PIL import Image
from skimage import draw as skdraw
from skimage import measure as skmeasure

from measurement import alignment as alignment_module
from measurement import segmentation
from measurement.alignment import Alignment, PhotoFeatures, align_features, photo_features
from measurement.describe import describe_change
from measurement.measures import LesionMeasures, measure_lesion, relative_area
from measurement.scale import (
    CARD,
    COIN,
    DISAGREES_WITH_DEVICE,
    ERROR,
    Scale,
    agree,
    device_scale,
    find_scale,
    refused,
)
from measurement.scale import REASONS as SCALE_REASONS
from measurement.scale import manual_scale as manual_scale_of
from measurement.size import lesion_size, size_growth
from measurement.thresholds import ChangeThresholds, detect_changes

OUTLINE_POINTS = 120  # at most this many outline vertices are stored (enough to draw, small in JSON)


def outline_polygon(mask: np.ndarray) -> list[list[float]]:
    """The mask's outer contour as [[x, y], ...] in fractions of the photo's width and height."""
    height, width = mask.shape
    contours = skmeasure.find_contours(np.pad(mask, 1).astype(float), 0.5)
    if not contours:
        return []
    contour = max(contours, key=len) - 1.0  # (row, col), undo the padding
    tolerance = 0.5
    polygon = skmeasure.approximate_polygon(contour, tolerance=tolerance)
    while len(polygon) > OUTLINE_POINTS:
        tolerance *= 1.6
        polygon = skmeasure.approximate_polygon(contour, tolerance=tolerance)
    return [[round(float(c) / width, 4), round(float(r) / height, 4)] for r, c in polygon]


def photo_measures(image: Image.Image) -> dict[str, Any]:
    """What `Analysis.measures` stores: ok/reason, the measures (None when refused), the outline, timing.

    The outline is kept even when refused (`ok` False) so a page can show what was found; the
    measures only when the outline is trusted.
    """
    started = time.perf_counter()
    try:
        found = segmentation.segment_lesion(image)
        values = measure_lesion(image, found.mask).as_dict() if found.ok else None
        outline = outline_polygon(found.mask) if found.mask.any() else []
    except Exception as exc:  # noqa: BLE001 (a measure is worth no failed analysis; say why it is missing)
        return {
            "ok": False,
            "reason": "error",
            "reason_text": f"the lesion could not be measured ({type(exc).__name__})",
            "values": None,
            "outline": [],
            "seconds": round(time.perf_counter() - started, 3),
        }
    return {
        "ok": found.ok,
        "reason": found.reason,
        "reason_text": segmentation.REASONS.get(found.reason or "", ""),
        "values": values,
        "outline": outline,
        "width": int(found.mask.shape[1]),
        "height": int(found.mask.shape[0]),
        "contrast": round(found.contrast, 2),
        "seconds": round(time.perf_counter() - started, 3),
    }


# A photo with a coin or card beside the lesion is taken from further away than a close-up: the lesion is
# small in it, and the round, crisp coin is the most lesion-like thing in view. Its outline is then found
# in the photo's middle (the patient centres the lesion; this much of each side is cut away), with the
# reference painted over with the skin around it.
REFERENCE_MARGIN = 0.25
REFERENCE_PAINT = 1.2  # the coin's radius, widened by this, covers its rim and shadow


def _reference_region(size: tuple[int, int], reference: dict[str, Any], widen: float = 1.0) -> np.ndarray:
    """The coin's disc or the card's quadrilateral of `reference` (fractions of the photo) as a mask of `size`
    (width, height), widened about its centre by `widen`; empty for any other reference."""
    width, height = size
    region = np.zeros((height, width), dtype=bool)
    if reference.get("kind") == "coin":
        # radius_x is a fraction of the width; a tilted coin's radius_y one of the height.
        (cx, cy) = reference["centre"]
        radius = max(reference["radius_x"] * width, float(reference.get("radius_y") or 0.0) * height) * widen
        rows, cols = skdraw.disk((cy * height, cx * width), radius, shape=(height, width))
        region[rows, cols] = True
    elif reference.get("kind") == "card":
        corners = np.asarray(reference["corners"], dtype=float) * [width, height]
        centre = corners.mean(axis=0)
        corners = centre + (corners - centre) * widen
        rows, cols = skdraw.polygon(corners[:, 1], corners[:, 0], (height, width))
        region[rows, cols] = True
    return region


def _painted_over(image: Image.Image, reference: dict[str, Any]) -> Image.Image:
    """`image` with the coin or card of `reference` (fractions of the photo) painted with the skin around it."""
    width, height = image.size
    pixels = np.asarray(image.convert("RGB")).copy()
    region = _reference_region(image.size, reference, REFERENCE_PAINT)
    if not region.any() or region.all():
        return image
    around = np.zeros_like(region)
    rows, cols = np.nonzero(region)
    pad = max(4, int(0.05 * max(width, height)))
    top, bottom = max(0, rows.min() - pad), min(height, rows.max() + pad + 1)
    left, right = max(0, cols.min() - pad), min(width, cols.max() + pad + 1)
    around[top:bottom, left:right] = True
    around &= ~region
    if around.any():
        pixels[region] = np.median(pixels[around], axis=0).astype(pixels.dtype)
    return Image.fromarray(pixels)


def photo_measures_beside_reference(
    image: Image.Image, scale_image: Image.Image, hints: ScaleHints
) -> tuple[dict[str, Any], Scale | None]:
    """`photo_measures`, for a photo the patient said has a coin beside the lesion: when the coin (or a
    card) is found, the outline is found in the photo's middle with the reference painted over (the
    outline stays in fractions of the whole photo). Otherwise, or with a scale marked by hand, as any photo.

    Also returns the reference found (on `scale_image`, before the lesion was known; None when none was
    looked for), for `photo_size` to use when the lesion turns out to lie clear of it.
    """
    if hints.manual is not None or hints.coin_diameter_mm is None:
        return photo_measures(image), None
    try:
        found = find_scale(scale_image, coin_diameter_mm=hints.coin_diameter_mm)
    except Exception:  # noqa: BLE001 (no reference found is no reason to measure differently)
        return photo_measures(image), None
    if not found.ok or found.source not in (COIN, CARD):
        return photo_measures(image), None
    width, height = image.size
    margin = REFERENCE_MARGIN
    box = (round(width * margin), round(height * margin), round(width * (1 - margin)), round(height * (1 - margin)))
    measures = photo_measures(_painted_over(image, found.reference).crop(box))
    span = 1 - 2 * margin
    measures["outline"] = [[round(margin + x * span, 4), round(margin + y * span, 4)] for x, y in measures["outline"]]
    measures["region"] = [margin, margin, 1 - margin, 1 - margin]  # where the outline was looked for
    return measures, found


@dataclass(frozen=True)
class DeviceHint:
    """A phone dermatoscope's calibration: mm per pixel on a photo `calibrated_width` pixels wide."""

    mm_per_pixel: float
    relative_uncertainty: float
    calibrated_width: int


@dataclass(frozen=True)
class ScaleHints:
    """What is known about a photo's scale besides its pixels (lesions.Photo's fields).

    `width` and `height` are the stored photo's full size: every scale is stated in its pixels, whatever
    size the photo was decoded at.
    """

    width: int
    height: int
    coin_diameter_mm: float | None = None
    manual: dict[str, Any] | None = None  # {"points": [[x, y], [x, y]], "distance_mm": d}
    device: DeviceHint | None = None


def outline_mask(outline: list[list[float]], size: tuple[int, int]) -> np.ndarray:
    """The filled outline (fractions of the photo) as a boolean mask of `size` (width, height)."""
    width, height = size
    mask = np.zeros((height, width), dtype=bool)
    if len(outline) >= 3:
        rows, cols = skdraw.polygon([y * height for _, y in outline], [x * width for x, _ in outline], (height, width))
        mask[rows, cols] = True
    return mask


def in_full_size_pixels(scale: Scale, decoded_width: int, full_width: int) -> Scale:
    """A scale found on the photo decoded at `decoded_width`, stated per pixel of the stored photo."""
    if scale.mm_per_pixel is None or not decoded_width or not full_width or decoded_width == full_width:
        return scale
    return dataclasses.replace(scale, mm_per_pixel=scale.mm_per_pixel * decoded_width / full_width)


def photo_scale(
    image: Image.Image, hints: ScaleHints, *, lesion_mask: np.ndarray | None = None, found: Scale | None = None
) -> Scale:
    """The photo's scale: the patient's marked points win, then a coin, card or ruler found in the photo,
    then the dermatoscope's calibration.

    When a reference is found and a calibrated dermatoscope was used too and the two disagree, the found
    one is kept (the device may have been knocked, or another used) and flagged `disagrees_with_device`.
    `found` is a reference already found on `image` without the lesion's mask: it is used as it is when
    the lesion lies clear of it (looking again with the mask would find the same); else the photo is
    searched again with the mask (a coin over the lesion, or the lesion taken for a coin).
    """
    if hints.manual is not None:
        return manual_scale_of(
            list(hints.manual.get("points") or []),
            hints.manual.get("distance_mm") or 0.0,
            width=hints.width,
            height=hints.height,
        )
    clear = found is not None and found.ok
    if clear and found is not None and lesion_mask is not None:
        clear = not (lesion_mask & _reference_region(image.size, found.reference)).any()
    if not clear or found is None:
        found = find_scale(image, coin_diameter_mm=hints.coin_diameter_mm, lesion_mask=lesion_mask)
    found = in_full_size_pixels(found, image.width, hints.width)
    if hints.device is None:
        return found
    device = device_scale(
        hints.device.mm_per_pixel,
        hints.device.relative_uncertainty,
        calibrated_width=hints.device.calibrated_width,
        width=hints.width,
    )
    if not found.ok:
        return device
    return found if agree(found, device) else dataclasses.replace(found, reason=DISAGREES_WITH_DEVICE)


SIZE_ERROR = ERROR


def photo_size_refused(reason: str) -> dict[str, Any]:
    """A size dict with no size, for `reason` (a code of measurement.scale.REASONS)."""
    return lesion_size([], width=1, height=1, scale=refused(reason))


def photo_size(
    image: Image.Image, measures: dict[str, Any] | None, hints: ScaleHints, *, found: Scale | None = None
) -> dict[str, Any]:
    """What `Analysis.measures["size"]` stores (measurement.size.lesion_size): the lesion's long and short
    diameters and area in millimetres with their uncertainties, or `ok` False and the reason.

    Never raises: a size is worth no failed analysis. An outline that was not trusted (`measures["ok"]`
    False) gives no size, but the scale is still found and stored, for the photo page to show.
    """
    measures = measures or {}
    outline = list(measures.get("outline") or [])
    started = time.perf_counter()
    try:
        mask = outline_mask(outline, image.size) if outline else None
        scale = photo_scale(image, hints, lesion_mask=mask, found=found)
        # An untrusted outline gives no size (lesion_size says no_outline), whatever the scale.
        trusted = outline if measures.get("ok") else []
        size = lesion_size(trusted, width=hints.width, height=hints.height, scale=scale)
        if size["ok"] and scale.reason:  # a warning on a usable scale (disagrees_with_device)
            size = size | {"reason": scale.reason, "reason_text": SCALE_REASONS.get(scale.reason, "")}
    except Exception as exc:  # noqa: BLE001 (a size is worth no failed analysis; say why it is missing)
        size = photo_size_refused(SIZE_ERROR) | {"error": type(exc).__name__}
    size["seconds"] = round(time.perf_counter() - started, 3)
    return size


@dataclass(frozen=True)
class MeasuredPhoto:
    """One photo's side of a comparison: its measures dict (as stored), probability, date, features."""

    photo_id: int
    taken_on: date
    measures: dict[str, Any] | None
    malignant_probability: float | None
    features: PhotoFeatures | None

    @property
    def size(self) -> dict[str, Any] | None:
        """The size in millimetres (`photo_size`), when measured; None for analyses made before sizes."""
        size = (self.measures or {}).get("size")
        return size if isinstance(size, dict) else None

    @property
    def lesion_measures(self) -> LesionMeasures | None:
        values = (self.measures or {}).get("values") if (self.measures or {}).get("ok") else None
        return LesionMeasures.from_dict(values) if values else None


def features_of(image: Image.Image) -> PhotoFeatures | None:
    try:
        return photo_features(image)
    except Exception:  # noqa: BLE001 (no keypoints means no alignment, said in the comparison)
        return None


def compare_measured(
    earlier: MeasuredPhoto, later: MeasuredPhoto, thresholds: ChangeThresholds, *, kind: str
) -> dict[str, Any]:
    """One comparison as stored in `Analysis.change["comparisons"]` (and served by the compare API)."""
    if earlier.features is not None and later.features is not None:
        alignment = align_features(earlier.features, later.features)
    else:
        alignment = Alignment(False, alignment_module.NOT_ENOUGH_FEATURES, None, 1.0, 0.0, (0.0, 0.0), 0, 0)
    earlier_m, later_m = earlier.lesion_measures, later.lesion_measures
    area = None
    if alignment.ok and earlier_m and later_m and earlier_m.area_pixels and later_m.area_pixels:
        area = relative_area(earlier_m.area_pixels, later_m.area_pixels, alignment.scale)
    earlier_size, later_size = earlier.size, later.size
    # Both photos measured in millimetres (and a threshold for their growth measured): the growth is the
    # size rule, and the area ratio of two aligned photos (which a closer camera also changes) is not
    # used for a change; else it is, as before.
    growth = size_growth(earlier_size, later_size)
    by_mm = growth is not None and thresholds.long_diameter_growth_mm is not None
    changes = detect_changes(
        earlier_m,
        later_m,
        thresholds,
        relative_area=None if by_mm else area,
        earlier_probability=earlier.malignant_probability,
        later_probability=later.malignant_probability,
        earlier_size=earlier_size,
        later_size=later_size,
    )
    return {
        "kind": kind,
        "photo_id": earlier.photo_id,
        "taken_on": earlier.taken_on.isoformat(),
        "alignment": alignment.as_dict() | {"reason_text": alignment_module.REASONS.get(alignment.reason or "", "")},
        "relative_area": None if area is None else round(area, 4),
        "growth_mm": None if growth is None else round(growth, 2),
        "changes": [change.as_dict() for change in changes],
        "sentences": describe_change(changes, earlier_date=earlier.taken_on),
    }
