"""Measures of a lesion that do not depend on the distance to the camera (the A, B and C of ABCD).

- asymmetry: the lesion is flipped about each of its two principal axes (through its centroid);
  the share of its area that does not overlap its mirror image, averaged over the two axes.
  0 for a perfectly symmetric shape, about 0.05 for a well-drawn digital disc, up to ~1.
- border_irregularity: compactness perimeter^2 / (4 pi area) of the outline, computed after the
  mask is rescaled to a fixed size (so the pixel grid does not make small lesions look smoother).
  1 for a circle, ~1.19 for a 2:1 ellipse, 2+ for a ragged or star-like outline (Crofton perimeter).
- colours: which of the six ABCD colours (white, red, light brown, dark brown, blue-grey, black)
  cover at least MIN_COLOUR_SHARE of the lesion's pixels. Each pixel of the colour-corrected photo
  (Shades of Gray) goes to the nearest of the six reference colours, or of the patient's own skin
  (from the photo's edge), in CIELAB; skin-coloured pixels inside the outline count for no colour.
  Reference colours: Kasmi & Mokrani, IET Image Processing 10(6), 2016 (RGB in [0, 1]).
- relative_area: area of the later lesion over the earlier one, once the later photo is scaled
  to the earlier one by the alignment (a distance-independent area change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image
from skimage import color, measure, transform

from measurement.segmentation import WORK_SIZE, working_image

COLOURS = ("white", "red", "light brown", "dark brown", "blue-grey", "black")
REFERENCE_RGB = {
    "white": (1.0, 1.0, 1.0),
    "red": (0.8, 0.2, 0.2),
    "light brown": (0.6, 0.4, 0.0),
    "dark brown": (0.2, 0.0, 0.0),
    "blue-grey": (0.2, 0.6, 0.6),
    "black": (0.0, 0.0, 0.0),
}
MIN_COLOUR_SHARE = 0.05  # a colour is present when it covers at least 5% of the lesion
NORMALISED_SIDE = 64.0  # the mask is rescaled so that sqrt(area) is this many pixels


@dataclass(frozen=True)
class LesionMeasures:
    """The distance-independent measures of one photo's lesion."""

    asymmetry: float
    border_irregularity: float
    colours: tuple[str, ...]  # present colours, in COLOURS order
    colour_shares: dict[str, float] = field(default_factory=dict)  # share of lesion pixels per colour
    area_pixels: int = 0  # lesion area in the photo's own pixels (for relative_area)

    @property
    def colour_count(self) -> int:
        return len(self.colours)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the app stores it on the analysis)."""
        return {
            "asymmetry": round(self.asymmetry, 4),
            "border_irregularity": round(self.border_irregularity, 4),
            "colours": list(self.colours),
            "colour_count": self.colour_count,
            "colour_shares": {name: round(share, 4) for name, share in self.colour_shares.items()},
            "area_pixels": self.area_pixels,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LesionMeasures:
        return cls(
            asymmetry=float(data["asymmetry"]),
            border_irregularity=float(data["border_irregularity"]),
            colours=tuple(name for name in COLOURS if name in data["colours"]),
            colour_shares={str(k): float(v) for k, v in data.get("colour_shares", {}).items()},
            area_pixels=int(data.get("area_pixels", 0)),
        )


def _normalised(mask: np.ndarray) -> np.ndarray:
    """The mask cropped to the lesion (with a margin) and rescaled so sqrt(area) = NORMALISED_SIDE."""
    rows, cols = np.nonzero(mask)
    crop = mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = NORMALISED_SIDE / np.sqrt(crop.sum())
    shape = (max(3, round(crop.shape[0] * scale)), max(3, round(crop.shape[1] * scale)))
    resized = transform.resize(crop.astype(float), shape, order=1, anti_aliasing=scale < 1) >= 0.5
    return np.pad(resized, 4)


def asymmetry(mask: np.ndarray) -> float:
    """Mean non-overlapping share of the lesion flipped about each principal axis (0 = symmetric)."""
    shape = _normalised(mask)
    rows, cols = np.nonzero(shape)
    centre = np.array([cols.mean(), rows.mean()])  # (x, y)
    coords = np.stack([cols - centre[0], rows - centre[1]])
    _, vectors = np.linalg.eigh(np.cov(coords))
    # Pad so that a flipped shape cannot leave the canvas; then sample the canvas at each pixel's
    # mirror image (nearest pixel; a reflection is its own inverse).
    pad = int(max(shape.shape))
    canvas = np.pad(shape, pad)
    centre = centre + pad
    ys, xs = np.mgrid[: canvas.shape[0], : canvas.shape[1]]
    points = np.stack([xs.ravel() - centre[0], ys.ravel() - centre[1]])
    scores = []
    for axis in vectors.T:
        reflection = 2.0 * np.outer(axis, axis) - np.eye(2)  # mirror about the line along `axis`
        mx, my = np.rint(reflection @ points + centre[:, None]).astype(int)
        inside = (mx >= 0) & (mx < canvas.shape[1]) & (my >= 0) & (my < canvas.shape[0])
        flipped = np.zeros(canvas.size, dtype=bool)
        flipped[inside] = canvas[my[inside], mx[inside]]
        scores.append((canvas.ravel() ^ flipped).sum() / canvas.sum())
    return float(np.mean(scores))


def border_irregularity(mask: np.ndarray) -> float:
    """Compactness perimeter^2 / (4 pi area) at a fixed lesion size (1 = circle)."""
    shape = _normalised(mask)
    perimeter = measure.perimeter_crofton(shape, directions=4)  # closest to the true length on discs, ellipses
    return float(perimeter**2 / (4.0 * np.pi * shape.sum()))


def _skin_lab(lab: np.ndarray, mask: np.ndarray) -> np.ndarray:
    ring = np.zeros(mask.shape, dtype=bool)
    width = max(2, round(min(mask.shape) * 0.08))
    ring[:width] = ring[-width:] = True
    ring[:, :width] = ring[:, -width:] = True
    ring &= ~mask & (lab[..., 0] > 18.0)  # not the lesion, not a dermatoscope's dark corner
    if ring.sum() < 20:
        ring = ~mask
    return np.median(lab[ring], axis=0) if ring.any() else np.array([70.0, 15.0, 15.0])


def colour_shares(image: Image.Image | np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Share of the lesion's pixels nearest to each ABCD colour (skin-coloured pixels count for none)."""
    work = working_image(image, WORK_SIZE)
    if work.shape[:2] != mask.shape:
        mask = transform.resize(mask.astype(float), work.shape[:2], order=1) >= 0.5
    lab = color.rgb2lab(work)
    references = color.rgb2lab(np.array([[REFERENCE_RGB[name] for name in COLOURS]]))[0]
    references = np.vstack([references, _skin_lab(lab, mask)])
    pixels = lab[mask]
    distances = np.linalg.norm(pixels[:, None, :] - references[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(references))
    return {name: float(counts[i] / max(1, len(pixels))) for i, name in enumerate(COLOURS)}


def measure_lesion(image: Image.Image | np.ndarray, mask: np.ndarray) -> LesionMeasures:
    """All measures of the lesion outlined by `mask` (same height x width as `image`)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        raise ValueError("the mask is empty: there is no lesion to measure")
    shares = colour_shares(image, mask)
    return LesionMeasures(
        asymmetry=asymmetry(mask),
        border_irregularity=border_irregularity(mask),
        colours=tuple(name for name in COLOURS if shares[name] >= MIN_COLOUR_SHARE),
        colour_shares=shares,
        area_pixels=int(mask.sum()),
    )


def relative_area(earlier_area: float, later_area: float, scale: float) -> float:
    """Later lesion area over the earlier one, with the later photo scaled by the alignment.

    `scale` is the alignment's scale from later-photo pixels to earlier-photo pixels; an area
    scales with its square. 1.3 means the lesion is about 30% larger.
    """
    if earlier_area <= 0 or later_area <= 0 or scale <= 0:
        raise ValueError("areas and scale must be positive")
    return float(later_area * scale**2 / earlier_area)
