"""The body map: which body site a tap on the front or back outline means, and where a site's dot goes.

The regions are the `<path data-site="...">` of static/lesions/bodymap.svg (drawn by hand), read
once; `data-site` is the HAM10000 localization vocabulary (SVG ids cannot hold spaces, so ids are
`<view>-<site>[-<side>]`). Coordinates are each view's own: x 0-200, y 0-440, the same for both
views (the SVG places the views side by side with a translate).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from training.contract import BODY_SITE_LABELS, UNKNOWN_SITE

SVG_FILE = Path(__file__).resolve().parents[1] / "static" / "lesions" / "bodymap.svg"
VIEWS = ("front", "back")
UNKNOWN = UNKNOWN_SITE
SITES = tuple(BODY_SITE_LABELS)  # the HAM10000 vocabulary the app stores
_SVG = "{http://www.w3.org/2000/svg}"
_POINT = re.compile(r"[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)")


@dataclass(frozen=True)
class Region:
    id: str
    site: str
    view: str
    polygon: tuple[tuple[float, float], ...]

    def _edges(self) -> list[tuple[float, float, float, float]]:
        points = self.polygon
        return [(x1, y1, x2, y2) for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True)]

    def contains(self, x: float, y: float) -> bool:
        """Ray casting: a point is inside when a ray from it crosses the outline an odd number of times."""
        inside = False
        for x1, y1, x2, y2 in self._edges():
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside

    @property
    def area(self) -> float:
        return abs(sum(x1 * y2 - x2 * y1 for x1, y1, x2, y2 in self._edges())) / 2

    @property
    def centroid(self) -> tuple[float, float]:
        """The polygon's centre of area (shoelace formula)."""
        edges = self._edges()
        signed = sum(x1 * y2 - x2 * y1 for x1, y1, x2, y2 in edges) / 2
        cx = sum((x1 + x2) * (x1 * y2 - x2 * y1) for x1, y1, x2, y2 in edges) / (6 * signed)
        cy = sum((y1 + y2) * (x1 * y2 - x2 * y1) for x1, y1, x2, y2 in edges) / (6 * signed)
        return round(cx, 1), round(cy, 1)


@cache
def regions(svg_file: Path = SVG_FILE) -> tuple[Region, ...]:
    """Every region of the body map, front view first."""
    root = ET.parse(svg_file).getroot()
    found = []
    for group in root.iter(f"{_SVG}g"):
        view = group.get("data-view")
        if view not in VIEWS:
            continue
        for path in group.iter(f"{_SVG}path"):
            points = tuple((float(x), float(y)) for x, y in _POINT.findall(path.get("d", "")))
            found.append(Region(id=path.get("id", ""), site=path.get("data-site", ""), view=view, polygon=points))
    return tuple(found)


def site_at(x: float, y: float, view: str) -> str:
    """The body site under a tap at (x, y) on the `view` ("front" or "back") outline, else "unknown"."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
    for region in regions():
        if region.view == view and region.contains(x, y):
            return region.site
    return UNKNOWN


def default_position(site: str) -> tuple[str, float, float] | None:
    """Where a lesion's dot goes when only its site is known: (view, x, y), or None for "unknown".

    The centre of the site's largest region, on the front view when the site has one there.
    """
    if site not in SITES:
        raise ValueError(f"unknown body site {site!r}")
    candidates = [r for r in regions() if r.site == site]
    if not candidates:
        return None
    front = [r for r in candidates if r.view == "front"]
    largest = max(front or candidates, key=lambda r: r.area)
    x, y = largest.centroid
    return largest.view, x, y
