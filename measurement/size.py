"""The lesion's size in millimetres, from its stored outline and the photo's scale.

- long diameter: the largest distance between two points of the outline (maximum Feret diameter);
- short diameter: the outline's width perpendicular to the long diameter;
- area: the outline polygon's area (shoelace formula).

Each figure carries one standard deviation combining the scale's uncertainty and the outline's own
repeat noise (OUTLINE_RELATIVE_SD, measured by `python -m evaluation.size_study`, reports/size.md).
"Wider than 6 mm" (the D of ABCDE) is True or False only when 6 mm lies outside the long diameter's
±2 standard deviations, else None (cannot tell). Pure: numpy only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from measurement.scale import ERROR, NO_OUTLINE, REASONS, Scale

SIX_MM = 6.0
FLAG_SIGMAS = 2.0
# The outline's own relative noise (one sd) between two photos of the same lesion at a known scale,
# per figure. The long diameter's is measured in reports/size.json ("outline_relative_sd": 1.4826 x MAD of the
# outline's long diameter against the true one); the short diameter's and the area's are not measured yet.
OUTLINE_RELATIVE_SD = {"long": 0.064, "short": 0.07, "area": 0.12}


def _polygon_px(outline: list[list[float]], width: int, height: int) -> np.ndarray:
    points = np.asarray(outline, dtype=np.float64).reshape(-1, 2)
    return points * np.array([float(width), float(height)])


def polygon_area(points: np.ndarray) -> float:
    """Area of a simple polygon (shoelace), in the units of `points` squared."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def feret(points: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(maximum Feret diameter, width perpendicular to it, the two end points of the maximum)."""
    diffs = points[:, None, :] - points[None, :, :]
    distances = np.hypot(diffs[..., 0], diffs[..., 1])
    i, j = np.unravel_index(int(np.argmax(distances)), distances.shape)
    longest = float(distances[i, j])
    if longest <= 0.0:
        return 0.0, 0.0, points[[i, j]]
    direction = (points[j] - points[i]) / longest
    normal = np.array([-direction[1], direction[0]])
    across = points @ normal
    return longest, float(across.max() - across.min()), points[[i, j]]


def _not_measured(reason: str, scale: Scale) -> dict[str, Any]:
    return {
        "ok": False,
        "reason": reason,
        "reason_text": REASONS.get(reason, ""),
        "scale": scale.as_dict(),
        "long_mm": None,
        "long_mm_error": None,
        "short_mm": None,
        "short_mm_error": None,
        "area_mm2": None,
        "area_mm2_error": None,
        "wider_than_6mm": None,
    }


def lesion_size(outline: list[list[float]], *, width: int, height: int, scale: Scale) -> dict[str, Any]:
    """What Analysis.measures["size"] stores (see the module's docstring); never raises."""
    if not scale.ok or scale.mm_per_pixel is None:
        return _not_measured(scale.reason or ERROR, scale)
    try:
        points = _polygon_px(outline or [], width, height)
    except (TypeError, ValueError):
        return _not_measured(NO_OUTLINE, scale)
    if len(points) < 3 or not np.isfinite(points).all():
        return _not_measured(NO_OUTLINE, scale)
    mm = float(scale.mm_per_pixel)
    rel_scale = float(scale.relative_uncertainty or 0.0)
    long_px, short_px, _ends = feret(points)
    area_px = polygon_area(points)
    if long_px <= 0.0 or area_px <= 0.0:
        return _not_measured(NO_OUTLINE, scale)
    long_mm, short_mm, area_mm2 = long_px * mm, short_px * mm, area_px * mm * mm
    long_rel = math.hypot(rel_scale, OUTLINE_RELATIVE_SD["long"])
    short_rel = math.hypot(rel_scale, OUTLINE_RELATIVE_SD["short"])
    area_rel = math.hypot(2.0 * rel_scale, OUTLINE_RELATIVE_SD["area"])  # area goes with the scale squared
    long_err = long_mm * long_rel
    wider: bool | None = None
    if long_mm - FLAG_SIGMAS * long_err > SIX_MM:
        wider = True
    elif long_mm + FLAG_SIGMAS * long_err < SIX_MM:
        wider = False
    return {
        "ok": True,
        "reason": None,
        "reason_text": "",
        "scale": scale.as_dict(),
        "long_mm": round(long_mm, 3),
        "long_mm_error": round(long_err, 3),
        "short_mm": round(short_mm, 3),
        "short_mm_error": round(short_mm * short_rel, 3),
        "area_mm2": round(area_mm2, 3),
        "area_mm2_error": round(area_mm2 * area_rel, 3),
        "wider_than_6mm": wider,
    }


def size_growth(earlier: dict[str, Any] | None, later: dict[str, Any] | None) -> float | None:
    """The long diameter's growth in mm (later minus earlier) when both sizes were measured, else None."""
    if not earlier or not later or not earlier.get("ok") or not later.get("ok"):
        return None
    a, b = earlier.get("long_mm"), later.get("long_mm")
    if a is None or b is None:
        return None
    return float(b) - float(a)
