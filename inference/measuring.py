"""The lesion's outline and measures on one photo, and what changed against an earlier photo.

Called by the worker (inference.services) after the CNN; pure (numpy, scikit-image, Pillow) and
built on `measurement`. A photo that cannot be outlined or a pair that cannot be aligned is
recorded with the reason, never raised: measuring never fails an analysis.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from PIL import Image
from skimage import measure as skmeasure

from measurement import alignment as alignment_module
from measurement import segmentation
from measurement.alignment import Alignment, PhotoFeatures, align_features, photo_features
from measurement.describe import describe_change
from measurement.measures import LesionMeasures, measure_lesion, relative_area
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


@dataclass(frozen=True)
class MeasuredPhoto:
    """One photo's side of a comparison: its measures dict (as stored), probability, date, features."""

    photo_id: int
    taken_on: date
    measures: dict[str, Any] | None
    malignant_probability: float | None
    features: PhotoFeatures | None

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
    changes = detect_changes(
        earlier_m,
        later_m,
        thresholds,
        relative_area=area,
        earlier_probability=earlier.malignant_probability,
        later_probability=later.malignant_probability,
    )
    return {
        "kind": kind,
        "photo_id": earlier.photo_id,
        "taken_on": earlier.taken_on.isoformat(),
        "alignment": alignment.as_dict() | {"reason_text": alignment_module.REASONS.get(alignment.reason or "", "")},
        "relative_area": None if area is None else round(area, 4),
        "changes": [change.as_dict() for change in changes],
        "sentences": describe_change(changes, earlier_date=earlier.taken_on),
    }
