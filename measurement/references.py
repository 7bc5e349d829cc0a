"""Finding a reference of known size in a photo: a coin, an ID-1 card, a ruler with millimetre ticks.

Each finder works on a downscaled copy (`WORK_SIZE` on the long side) and returns candidates whose
sizes are in ORIGINAL pixels, each with its fit's relative uncertainty; `measurement.scale.find_scale`
chooses among them. How each is found:

- coin: a circle voted for along the gradient at every edge pixel (a Hough transform with one vote per
  edge pixel and radius), its radius from the edge pixels' distances to the best centres, then an
  ellipse fitted to the edge pixels near that circle (a tilted coin is an ellipse). A coin is a crisp,
  closed ellipse (edge pixels all round it, little residual) that is not the dark, soft-edged lesion.
  Its scale is the geometric mean of the two axes (the lesion in the same tilted plane is foreshortened
  alike on average); half the difference of the axes counts as uncertainty.
- card: closed edge loops filled into blobs; a blob that is a quadrilateral (four straight sides
  fitted to its outline, rounded corners cut off, corners where the sides meet) with sides in the
  ratio 85.60:53.98 (within perspective) is a card.
- ruler: the photo cut into overlapping patches; a patch across a ruler's ticks has one sharp peak in
  its Fourier spectrum (the tick period, along the ruler). Patches with the same peak that line up are a
  ruler; the tick positions along it, sampled in the original photo, give the period by a straight-line
  fit (position = offset + period x index), and its standard error is the uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import color, feature, measure, morphology, transform

from measurement.segmentation import as_rgb_array

WORK_SIZE = 800  # long side of the working copy, pixels

# Coin
COIN_MIN_RADIUS_WORK = 5.0  # smaller circles are not looked for at all
COIN_MAX_RADIUS_FRACTION = 0.45  # of the working copy's short side
COIN_MIN_COVERAGE = 0.8  # share of the ellipse's angle with a fitted edge pixel
COIN_MAX_RESIDUAL = 0.025  # RMS distance of the edge pixels to the ellipse, over the radius
COIN_CRISP_RESIDUAL = 0.01  # an ellipse this clean needs less coverage:
COIN_MIN_COVERAGE_CRISP = 0.65
COIN_MIN_AXIS_RATIO = 0.85  # minor/major: tilted by ~30 degrees at most
COIN_MAX_EDGES = 4  # circles tried as the edge round one centre
COIN_MIN_CONTRAST = 6.0  # CIELAB distance between the disc and the ring round it

# Card
CARD_ASPECT = 85.60 / 53.98
CARD_EDGE_SIGMA = 2.5
CARD_MIN_LONG_WORK = 40.0
CARD_ASPECT_TOLERANCE = 0.2  # |log(aspect / CARD_ASPECT)| at most (perspective up to ~20 degrees)
CARD_MIN_FILL = 0.94  # blob area / quadrilateral area
CARD_MAX_RESIDUAL = 0.012  # RMS distance of the outline to its four sides, over the long side
CARD_LINE_MIN = 25  # shortest straight edge segment looked at (working pixels)
CARD_MAX_LINES = 40  # the longest straight edges tried as a card's sides
CARD_MIN_SIDE_SUPPORT = 0.7  # share of each side (rounded corners left out) on an edge
CARD_MIN_LONG_FRACTION = 0.12  # a card's long side over the photo's long side, at least

# Ruler
RULER_PATCH = 64
RULER_STRIDE = 24
RULER_MIN_PERIOD_WORK = 3.0
RULER_MAX_PERIOD_WORK = 21.0
RULER_MIN_PEAK_SHARE = 2.3  # the spectrum's peak over its fall-off with frequency (log: ~10x)
RULER_MIN_PATCHES = 3
RULER_MIN_TICKS = 10
RULER_MIN_CONTRAST = 0.02  # standard deviation of a patch's high-passed grey (0-1): ticks are printed dark
RULER_MIN_AMPLITUDE = 0.015  # the ticks' fundamental in the profile (grey 0-1): not a JPEG block grid
RULER_MAX_GROUPS = 6


@dataclass(frozen=True)
class Candidate:
    """A reference found: its size in original pixels, the fit's relative uncertainty, the geometry.

    `pixels` is the length in original pixels that corresponds to `millimetres` (coin: its diameter;
    card: its long side; ruler: one tick period = 1 mm). `reference` is in fractions of width/height.
    """

    kind: str  # "coin" | "card" | "ruler"
    pixels: float
    millimetres: float
    relative_uncertainty: float
    reference: dict[str, Any]
    score: float = 0.0
    size_px: float = 0.0  # the reference's extent in original pixels (coin diameter, card long side, ruler length)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mm_per_pixel(self) -> float:
        return self.millimetres / self.pixels


@dataclass(frozen=True)
class Working:
    rgb: np.ndarray  # float RGB 0-1 at working size
    grey: np.ndarray  # float 0-1 at working size
    factor: float  # original pixels per working pixel
    original_grey: np.ndarray  # float32 0-1 at the original size (for the ruler's fine profile)
    width: int  # original
    height: int


def working_copy(image: Image.Image | np.ndarray, size: int = WORK_SIZE) -> Working:
    """The photo at most `size` pixels on the long side (Pillow's box reduction, fast on 12 MP photos)."""
    picture = image if isinstance(image, Image.Image) else Image.fromarray(as_rgb_array(image))
    picture = picture.convert("RGB")
    width, height = picture.size
    original_grey = np.asarray(picture.convert("L"), dtype=np.float32) / 255.0
    reduce = max(width, height) / size
    small = (
        picture.resize(
            (max(1, round(width / reduce)), max(1, round(height / reduce))), Image.Resampling.BOX, reducing_gap=None
        )
        if reduce > 1.0
        else picture
    )
    rgb = np.asarray(small, dtype=np.float64) / 255.0
    factor = width / rgb.shape[1]  # the rounded size's own, not `reduce`
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    return Working(rgb=rgb, grey=grey, factor=factor, original_grey=original_grey, width=width, height=height)


# ---------------------------------------------------------------- coin


@dataclass(frozen=True)
class Edges:
    """Edge pixels (Canny on lightness and on the colour's distance from the skin: silver on pink skin has
    little lightness contrast but much colour contrast) and, per pixel, the gradient of the stronger."""

    mask: np.ndarray
    gx: np.ndarray
    gy: np.ndarray


def find_edges(lab: np.ndarray, sigma: float = 1.5) -> Edges:
    # lightness, and the colour distance to the photo's median colour (mostly skin)
    skin = np.median(lab.reshape(-1, 3)[:: max(1, lab.shape[0] * lab.shape[1] // 20000)], axis=0)
    distance = np.sqrt(np.sum((lab[..., 1:] - skin[1:]) ** 2, axis=-1))
    channels = [lab[..., 0] / 100.0, distance / 100.0]
    mask = np.zeros(lab.shape[:2], dtype=bool)
    best = np.zeros(lab.shape[:2])
    gx = np.zeros(lab.shape[:2])
    gy = np.zeros(lab.shape[:2])
    for channel in channels:
        mask |= np.asarray(feature.canny(channel, sigma=sigma, low_threshold=0.02, high_threshold=0.05), dtype=bool)
        smooth = ndimage.gaussian_filter(channel, sigma)
        cx, cy = ndimage.sobel(smooth, axis=1), ndimage.sobel(smooth, axis=0)
        magnitude = np.hypot(cx, cy)
        stronger = magnitude > best
        best = np.where(stronger, magnitude, best)
        gx = np.where(stronger, cx, gx)
        gy = np.where(stronger, cy, gy)
    return Edges(mask=mask, gx=gx, gy=gy)


def find_coins(work: Working, coin_mm: float, lab: np.ndarray, edges: Edges) -> list[Candidate]:
    """Credible coins (crisp closed ellipses), best first."""
    grey = work.grey
    height, width = grey.shape
    gx, gy = edges.gx, edges.gy
    ys, xs = np.nonzero(edges.mask)
    if len(xs) < 20:
        return []
    magnitude = np.hypot(gx[ys, xs], gy[ys, xs]) + 1e-12
    ux, uy = gx[ys, xs] / magnitude, gy[ys, xs] / magnitude
    r_max = COIN_MAX_RADIUS_FRACTION * min(height, width)
    if r_max <= COIN_MIN_RADIUS_WORK:
        return []
    radii = np.geomspace(COIN_MIN_RADIUS_WORK, r_max, 48)
    accumulator = np.zeros(height * width, dtype=np.float64)
    for sign in (1.0, -1.0):
        cx = np.rint(xs[:, None] + sign * ux[:, None] * radii[None, :]).astype(np.int64)
        cy = np.rint(ys[:, None] + sign * uy[:, None] * radii[None, :]).astype(np.int64)
        inside = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
        # a circle of radius r gets ~2 pi r votes: weigh each vote by 1/sqrt(r) so that small clutter (hair,
        # the lesion's border) does not outvote a large coin, nor a large coin a small one by much
        weights = np.broadcast_to(1.0 / np.sqrt(radii[None, :]), cx.shape)[inside]
        accumulator += np.bincount((cy * width + cx)[inside], weights=weights, minlength=height * width)
    votes = ndimage.gaussian_filter(accumulator.reshape(height, width), 1.0)
    peaks = feature.peak_local_max(votes, min_distance=8, num_peaks=40, threshold_abs=float(votes.max()) * 0.1)
    found: list[Candidate] = []
    for py, px in peaks:
        candidate = _verify_coin(float(px), float(py), xs, ys, ux, uy, magnitude, radii, work, coin_mm, lab)
        if candidate is not None and not any(_same_coin(candidate, other) for other in found):
            found.append(candidate)
    found.sort(key=lambda c: -c.score)
    return found


def _ellipse_residuals(model: Any, points: np.ndarray) -> np.ndarray:
    """Distance of each point to the ellipse along its ray from the centre (near-circles: close to the
    geometric distance, and fast; skimage's exact residuals solve one least-squares problem per point)."""
    (cx, cy), (a, b), theta = model.center, model.axis_lengths, float(model.theta)
    dx, dy = points[:, 0] - cx, points[:, 1] - cy
    cos, sin = math.cos(theta), math.sin(theta)
    u, v = dx * cos + dy * sin, -dx * sin + dy * cos
    r = np.hypot(u, v) + 1e-12
    r_ellipse = a * b / np.sqrt((b * u / r) ** 2 + (a * v / r) ** 2)
    return np.asarray(np.abs(r - r_ellipse))


def _same_coin(a: Candidate, b: Candidate) -> bool:
    (ax, ay), (bx, by) = a.extra["centre_px"], b.extra["centre_px"]
    return math.hypot(ax - bx, ay - by) < 0.8 * max(a.extra["radius_px"], b.extra["radius_px"])


def _beside(densities: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Per radius, the median density of the radii 8-25% away on either side (the background).

    The radii are evenly spaced in log: those radii are a fixed run of neighbours on each side."""
    step = math.log(radii[1] / radii[0])
    near, far = math.ceil(math.log(1.08) / step - 1e-9), math.floor(math.log(1.25) / step + 1e-9)
    padded = np.concatenate([np.full(far, np.nan), densities, np.full(far, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * far + 1)  # centred on each radius
    around = np.concatenate([windows[:, : far - near + 1], windows[:, far + near :]], axis=1)
    with np.errstate(all="ignore"):
        counted = np.isfinite(around).any(axis=1)
        median = np.nanmedian(np.where(counted[:, None], around, 0.0), axis=1)
    return np.where(counted, median, densities)


def _annulus_colour(lab: np.ndarray, cx: float, cy: float, inner: float, outer: float) -> np.ndarray | None:
    """The median CIELAB colour between two radii round (cx, cy), within the photo; None if too few pixels."""
    height, width = lab.shape[:2]
    x0, x1 = max(0, int(cx - outer) - 1), min(width, int(cx + outer) + 2)
    y0, y1 = max(0, int(cy - outer) - 1), min(height, int(cy + outer) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    yy, xx = np.ogrid[y0:y1, x0:x1]
    rr = np.hypot(xx - cx, yy - cy)
    ring = (rr >= inner) & (rr <= outer)
    if ring.sum() < 8:
        return None
    return np.asarray(np.median(lab[y0:y1, x0:x1][ring], axis=0))


def _coin_edges(
    radii: np.ndarray, peaks: np.ndarray, best_density: float, cx: float, cy: float, lab: np.ndarray
) -> list[float]:
    """The radii round (cx, cy) where a coin's edge may be, to try in turn: outermost first.

    A coin draws several circles: its relief, the groove and raised rim inside its edge, its shadow outside.
    Its edge has skin just outside (like the skin further out) and another colour just inside; the relief
    and rim have metal on both sides, and skin texture no step at all. Of circles within 8% of each other
    (a shadow's or blur's double edge) the one with the sharpest step comes first. The strongest circle
    when none has such a step; empty when no circle is seen."""
    local_max = peaks >= np.maximum(np.roll(peaks, 1), np.roll(peaks, -1))
    strong = local_max & (peaks >= max(0.2, 0.3 * best_density))
    if not strong.any():
        return []
    edges: list[tuple[float, float]] = []  # (radius, score)
    for r, peak in zip(radii[strong], peaks[strong], strict=True):
        gap, width = max(1.5, 0.03 * r), max(2.5, 0.06 * r)
        outside = _annulus_colour(lab, cx, cy, r + gap, r + gap + width)
        inside = _annulus_colour(lab, cx, cy, r - gap - width, r - gap)
        skin = _annulus_colour(lab, cx, cy, 1.25 * r, 1.5 * r)
        if outside is None or inside is None or skin is None:
            continue
        step = float(np.linalg.norm(inside - skin))
        if np.linalg.norm(outside - skin) < 0.5 * step and step >= COIN_MIN_CONTRAST:
            edges.append((float(r), step * min(1.0, float(peak) / (0.5 * best_density))))
    strongest = float(radii[int(np.argmax(peaks))])
    ordered: list[float] = []
    remaining = sorted(edges, reverse=True)
    while remaining:
        outermost = remaining[0][0]
        close = [e for e in remaining if e[0] >= 0.92 * outermost]
        ordered += [r for r, _ in sorted(close, key=lambda e: -e[1])]
        remaining = [e for e in remaining if e[0] < 0.92 * outermost]
    return ([*ordered, strongest] if strongest not in ordered else ordered)[:COIN_MAX_EDGES]


def _verify_coin(
    px: float,
    py: float,
    xs: np.ndarray,
    ys: np.ndarray,
    ux: np.ndarray,
    uy: np.ndarray,
    magnitude: np.ndarray,
    radii: np.ndarray,
    work: Working,
    coin_mm: float,
    lab: np.ndarray,
) -> Candidate | None:
    dx, dy = xs - px, ys - py
    distance = np.hypot(dx, dy) + 1e-9
    radial = np.abs((dx * ux + dy * uy) / distance) > 0.85
    near = radial & (distance <= radii[-1] * 1.15) & (distance >= radii[0] * 0.85)
    if near.sum() < 12:
        return None
    # the radius: a circle is a peak of edge pixels per unit of circumference (in a band of 2.5% of the
    # radius, on a fine grid) over the radii beside it (textured skin is dense at every radius)
    d_near = distance[near]
    fine = np.geomspace(radii[0], radii[-1], int(math.log(radii[-1] / radii[0]) / math.log(1.01)) + 2)
    ordered = np.sort(d_near)
    half = np.maximum(0.8, 0.025 * fine)
    counts = np.searchsorted(ordered, fine + half, side="right") - np.searchsorted(ordered, fine - half, side="left")
    densities = counts / (2 * math.pi * fine)
    beside = _beside(densities, fine)
    peaks = densities - beside
    best_density = float(peaks.max())
    if best_density < 0.35:
        return None
    for best_r in _coin_edges(fine, peaks, best_density, px, py, lab):
        candidate = _coin_at(best_r, best_density, near, distance, dx, dy, xs, ys, magnitude, work, coin_mm, lab)
        if candidate is not None:
            return candidate
    return None


def _coin_at(
    best_r: float,
    best_density: float,
    near: np.ndarray,
    distance: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    magnitude: np.ndarray,
    work: Working,
    coin_mm: float,
    lab: np.ndarray,
) -> Candidate | None:
    """The coin whose edge is near the circle of radius `best_r` round the Hough peak, if it is a crisp ellipse."""
    band = near & (np.abs(distance - best_r) <= max(1.5, 0.07 * best_r))
    # one edge pixel per direction from the centre, the strongest: the coin's own edge, not its shadow's
    chosen = np.nonzero(band)[0]
    if len(chosen) < 12:
        return None
    sector = np.floor((np.arctan2(dy[chosen], dx[chosen]) + math.pi) / (2 * math.pi) * 720).astype(int)
    order = np.lexsort((-magnitude[chosen], sector))
    first = np.ones(len(order), dtype=bool)
    first[1:] = sector[order][1:] != sector[order][:-1]
    chosen = chosen[order[first]]
    points = np.column_stack([xs[chosen], ys[chosen]]).astype(np.float64)
    if len(points) < 12:
        return None
    model = None
    for _ in range(3):  # fit, drop the far edge pixels (text, rim, highlights), refit
        model = measure.EllipseModel.from_estimate(points)
        if not model:
            return None
        residuals = _ellipse_residuals(model, points)
        keep = residuals <= max(1.0, 2.5 * float(np.median(residuals)) + 0.3)
        if keep.all() or keep.sum() < 12:
            break
        points = points[keep]
    assert model is not None
    (cx, cy), (a, b), theta = model.center, model.axis_lengths, float(model.theta)
    major, minor = float(max(a, b)), float(min(a, b))
    if not (minor > 0 and math.isfinite(major)) or minor / major < COIN_MIN_AXIS_RATIO:
        return None
    residuals = _ellipse_residuals(model, points)
    rms = 1.4826 * float(np.median(residuals))  # robust: relief and shadow edges near the rim are outliers
    # coverage from every edge pixel of the band near the fitted ellipse (texture may outshine a few)
    band_points = np.column_stack([xs[band], ys[band]]).astype(np.float64)
    inliers = band_points[_ellipse_residuals(model, band_points) <= max(1.0, 0.03 * major)]
    angles = np.arctan2(inliers[:, 1] - cy, inliers[:, 0] - cx)
    coverage = len(np.unique(np.floor((angles + math.pi) / (2 * math.pi) * 72).astype(int))) / 72.0
    height, width = work.grey.shape
    crisp = rms / major <= COIN_CRISP_RESIDUAL  # a very clean ellipse may miss a few sectors (rim lit like skin)
    if rms / major > COIN_MAX_RESIDUAL or coverage < (COIN_MIN_COVERAGE_CRISP if crisp else COIN_MIN_COVERAGE):
        return None
    if cx - major < 0 or cy - major < 0 or cx + major >= width or cy + major >= height:
        return None  # cut by the photo's edge: not measurable
    # Appearance: the disc against the ring round it; a coin is not the dark, low-lightness lesion.
    yy, xx = np.ogrid[:height, :width]
    rr = np.hypot(xx - cx, yy - cy)
    mean_r = math.sqrt(major * minor)
    disc = rr <= 0.8 * mean_r
    ring = (rr >= 1.2 * mean_r) & (rr <= 1.5 * mean_r)
    if disc.sum() < 10 or ring.sum() < 10:
        return None
    disc_lab, ring_lab = np.median(lab[disc], axis=0), np.median(lab[ring], axis=0)
    contrast = float(np.linalg.norm(disc_lab - ring_lab))
    if contrast < COIN_MIN_CONTRAST:
        return None
    factor = work.factor
    diameter_px = 2.0 * mean_r * factor
    # Uncertainty: the fit's error on the mean radius (rms / sqrt(n) per axis) and the tilt's ambiguity
    fit = rms / math.sqrt(max(len(inliers), 1)) / mean_r
    tilt = (major - minor) / (major + minor) / math.sqrt(3.0)
    quantisation = 0.5 / (2.0 * mean_r)  # half a working pixel over the diameter
    relative = math.sqrt(fit**2 + tilt**2 + quantisation**2)
    score = coverage * min(1.0, best_density) * (1.0 - rms / major / COIN_MAX_RESIDUAL * 0.5)
    return Candidate(
        kind="coin",
        pixels=diameter_px,
        millimetres=coin_mm,
        relative_uncertainty=relative,
        reference={
            "kind": "coin",
            "centre": [round(cx / width, 5), round(cy / height, 5)],
            "radius_x": round(mean_r / width, 5),
            "radius_y": round(mean_r / height, 5),
            "axes": [round(float(a) / width, 5), round(float(b) / height, 5)],
            "angle": round(theta, 4),
        },
        score=score,
        size_px=diameter_px,
        extra={
            "centre_px": (cx, cy),
            "radius_px": mean_r,
            "coverage": coverage,
            "rms": rms / major,
            "contrast": contrast,
            "disc_lightness": float(disc_lab[0]),
            "axis_ratio": minor / major,
        },
    )


def disc_mask(candidate: Candidate, shape: tuple[int, int]) -> np.ndarray:
    """The coin's disc at `shape` (working size)."""
    height, width = shape
    cx, cy = candidate.reference["centre"]
    r = candidate.reference["radius_x"] * width
    yy, xx = np.ogrid[:height, :width]
    return np.asarray(np.hypot(xx - cx * width, yy - cy * height) <= r)


# ---------------------------------------------------------------- card


def _line_fit(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(point on the line, unit direction, RMS distance) by total least squares."""
    centre = points.mean(axis=0)
    _u, _s, vt = np.linalg.svd(points - centre, full_matrices=False)
    direction = vt[0]
    normal = np.array([-direction[1], direction[0]])
    rms = float(np.sqrt(np.mean(((points - centre) @ normal) ** 2)))
    return centre, direction, rms


def _intersect(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray) -> np.ndarray | None:
    matrix = np.column_stack([d1, -d2])
    if abs(np.linalg.det(matrix)) < 1e-6:
        return None
    t = np.linalg.solve(matrix, p2 - p1)
    return np.asarray(p1 + t[0] * d1)


def find_cards(work: Working, lab: np.ndarray) -> list[Candidate]:
    """Quadrilateral blobs with an ID-1 card's proportions, best first.

    Edges at a coarser blur than the coin's (CARD_EDGE_SIGMA): skin texture and pores then leave no
    closed loops, while a card's long straight sides stay."""
    height, width = work.grey.shape
    edges = find_edges(lab, sigma=CARD_EDGE_SIGMA)
    closed = ndimage.binary_closing(edges.mask, morphology.disk(2))
    filled = ndimage.binary_fill_holes(closed)
    blobs = ndimage.binary_opening(filled, morphology.disk(3))
    found: list[Candidate] = []
    # two views of the same loops: the filled blobs, and the regions inside the edges (with their holes
    # filled: print, chip), which stay apart from a neighbouring blob the card touches
    interior = measure.label(~closed, connectivity=1)
    for labels, grow in ((measure.label(blobs), 0), (interior, 1)):
        for region in measure.regionprops(labels):
            if region.area < CARD_MIN_LONG_WORK**2 / CARD_ASPECT / 2 or region.area > 0.8 * height * width:
                continue
            top, left, bottom, right = region.bbox
            if top <= 1 or left <= 1 or bottom >= height - 1 or right >= width - 1:
                continue
            if grow:
                shape = np.pad(ndimage.binary_fill_holes(region.image), grow + 1)
                shape = ndimage.binary_dilation(shape, iterations=grow)  # back out to the middle of the edge
                region = measure.regionprops(shape.astype(np.uint8))[0]
                region = _Shifted(region, top - grow - 1, left - grow - 1)
            candidate = _verify_card(region, work)
            if candidate is not None and not any(_same_card(candidate, other) for other in found):
                found.append(candidate)
    # a card whose outline is not one closed loop (it touches a dark patch, a band crosses its print):
    # four straight edges in two nearly parallel pairs
    found += [c for c in _cards_from_lines(work, lab, edges) if not any(_same_card(c, other) for other in found)]
    # a quadrilateral of hair or print far smaller than a card held beside a lesion is not one
    found = [c for c in found if c.size_px / work.factor >= CARD_MIN_LONG_FRACTION * max(width, height)]
    found.sort(key=lambda c: -c.score)
    return found


def _cards_from_lines(work: Working, lab: np.ndarray, edges: Edges) -> list[Candidate]:
    height, width = edges.mask.shape
    segments = np.array(
        transform.probabilistic_hough_line(edges.mask, threshold=10, line_length=CARD_LINE_MIN, line_gap=3, rng=0),
        dtype=np.float64,
    )
    if len(segments) < 4:
        return []
    lines = _merge_segments(segments)[:CARD_MAX_LINES]
    near_edge = ndimage.binary_dilation(edges.mask, iterations=3)
    pairs = []
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            (t1, r1, _), (t2, r2, _) = lines[i], lines[j]
            if (
                _angle_gap(t1, t2) < math.radians(15)
                and abs(r1 - _same_sense(t1, t2, r2)) >= CARD_MIN_LONG_WORK / CARD_ASPECT / 2
            ):
                pairs.append((i, j))
    found: list[Candidate] = []
    tried = 0
    for a in range(len(pairs)):
        for b in range(a + 1, len(pairs)):
            (i, j), (k, m) = pairs[a], pairs[b]
            if len({i, j, k, m}) < 4 or abs(_angle_gap(lines[i][0], lines[k][0]) - math.pi / 2) > math.radians(25):
                continue
            corners = [_line_cross(lines[p], lines[q]) for p, q in ((i, k), (i, m), (j, m), (j, k))]
            if any(c is None for c in corners):
                continue
            quad = np.array(corners)
            if quad.min() < 1 or (quad[:, 0] >= width - 1).any() or (quad[:, 1] >= height - 1).any():
                continue
            sides = [float(np.hypot(*(quad[(n + 1) % 4] - quad[n]))) for n in range(4)]
            long_side, short_side = (
                max(sides[0] + sides[2], sides[1] + sides[3]),
                min(sides[0] + sides[2], sides[1] + sides[3]),
            )
            if short_side <= 0 or abs(math.log(long_side / short_side / CARD_ASPECT)) > CARD_ASPECT_TOLERANCE:
                continue
            tried += 1
            if tried > 400:
                break
            if long_side / 2.0 < CARD_MIN_LONG_FRACTION * max(width, height):
                continue  # too small to be a card beside a lesion (a band, a chip, hair)
            support = [_side_support(near_edge, quad[n], quad[(n + 1) % 4]) for n in range(4)]
            if min(support) < CARD_MIN_SIDE_SUPPORT or not _one_body(lab, quad):
                continue
            # a card's sides end at its corners; a ruler's edges run on past a printed line at both ends
            if any(
                min(_side_support(near_edge, quad[n], quad[(n + 1) % 4], span) for span in ((1.08, 1.3), (-0.3, -0.08)))
                >= CARD_MIN_SIDE_SUPPORT
                for n in range(4)
            ):
                continue
            refined = _refine_quad(quad, edges.mask)
            if refined is None:
                continue
            corners_fit, rms, per_side = refined
            candidate = _card_candidate(corners_fit, rms, per_side, float(np.mean(support)), work)
            if candidate is not None and not any(_same_card(candidate, other) for other in found):
                found.append(candidate)
    return found


CARD_MIN_STEP = 6.0  # CIELAB distance between the strips just inside and just outside each side
CARD_MAX_INSIDE_SPREAD = 20.0  # between the four sides' inside strips: one card, one base colour


def _one_body(lab: np.ndarray, quad: np.ndarray) -> bool:
    """Whether a quadrilateral is one object's outline: the strips just inside its four sides share a colour
    (the card's), and each differs from the strip just outside (a band and a chip printed on a card make
    a quadrilateral too, but with other colours inside each side)."""
    centre = quad.mean(axis=0)
    inside, steps = [], []
    for k in range(4):
        a, b = quad[k], quad[(k + 1) % 4]
        length = float(np.hypot(*(b - a)))
        normal = np.array([-(b - a)[1], (b - a)[0]]) / max(length, 1e-9)
        if (centre - (a + b) / 2.0) @ normal < 0:
            normal = -normal  # pointing in
        offset = max(3.0, 0.03 * length)
        t = np.linspace(0.15, 0.85, max(8, int(length * 0.7)))
        line = a[None, :] + t[:, None] * (b - a)[None, :]
        strips = []
        for sign in (1.0, -1.0):
            points = line + sign * offset * normal[None, :]
            xs = np.clip(np.rint(points[:, 0]).astype(int), 0, lab.shape[1] - 1)
            ys = np.clip(np.rint(points[:, 1]).astype(int), 0, lab.shape[0] - 1)
            strips.append(np.median(lab[ys, xs], axis=0))
        inside.append(strips[0])
        steps.append(float(np.linalg.norm(strips[0] - strips[1])))
    spread = max(float(np.linalg.norm(p - q)) for p in inside for q in inside)
    return min(steps) >= CARD_MIN_STEP and spread <= CARD_MAX_INSIDE_SPREAD


def _merge_segments(segments: np.ndarray) -> list[tuple[float, float, float]]:
    """Straight edge segments merged into lines (normal angle 0-pi, distance from the origin, total length),
    longest first; each line fitted to the points of all its segments."""
    d = segments[:, 1] - segments[:, 0]
    length = np.hypot(d[:, 0], d[:, 1])
    theta = (np.arctan2(d[:, 1], d[:, 0]) + math.pi / 2) % math.pi
    middle = segments.mean(axis=1)
    rho = middle[:, 0] * np.cos(theta) + middle[:, 1] * np.sin(theta)
    groups: list[tuple[float, float, list[int]]] = []  # the longest segment's (theta, rho), members
    for n in np.argsort(-length):
        for t, r, members in groups:
            if _angle_gap(t, theta[n]) < math.radians(2.5) and abs(r - _same_sense(t, theta[n], rho[n])) < 3.0:
                members.append(int(n))
                break
        else:
            groups.append((float(theta[n]), float(rho[n]), [int(n)]))
    lines = []
    for t, r, members in groups:
        if len(members) > 1:
            points = np.concatenate(
                [segments[m, 0] + np.linspace(0, 1, max(2, int(length[m])))[:, None] * d[m] for m in members]
            )
            centre, direction, _rms = _line_fit(points)
            t = float((math.atan2(direction[1], direction[0]) + math.pi / 2) % math.pi)
            r = float(centre[0] * math.cos(t) + centre[1] * math.sin(t))
        lines.append((t, r, float(length[members].sum())))
    lines.sort(key=lambda line: -line[2])
    return lines


def _angle_gap(t1: float, t2: float) -> float:
    """The angle between two undirected lines' normals (0 to pi/2)."""
    gap = abs(t1 - t2) % math.pi
    return min(gap, math.pi - gap)


def _same_sense(t1: float, t2: float, r2: float) -> float:
    """Line 2's distance from the origin measured along a normal within 90 degrees of line 1's."""
    return -r2 if abs(t1 - t2) > math.pi / 2 else r2


def _line_cross(l1: tuple[float, float, float], l2: tuple[float, float, float]) -> np.ndarray | None:
    (t1, r1, _), (t2, r2, _) = l1, l2
    matrix = np.array([[math.cos(t1), math.sin(t1)], [math.cos(t2), math.sin(t2)]])
    if abs(np.linalg.det(matrix)) < 1e-3:
        return None
    return np.asarray(np.linalg.solve(matrix, [r1, r2]))


def _side_support(
    near_edge: np.ndarray, a: np.ndarray, b: np.ndarray, span: tuple[float, float] = (0.12, 0.88)
) -> float:
    """The share of a side from a to b (by default its middle, 12-88%: rounded corners left out; or a span
    beyond its ends) that lies on an edge."""
    t = np.linspace(span[0], span[1], max(8, int(np.hypot(*(b - a)) * (span[1] - span[0]))))
    points = a[None, :] + t[:, None] * (b - a)[None, :]
    xs = np.clip(np.rint(points[:, 0]).astype(int), 0, near_edge.shape[1] - 1)
    ys = np.clip(np.rint(points[:, 1]).astype(int), 0, near_edge.shape[0] - 1)
    return float(near_edge[ys, xs].mean())


def _refine_quad(quad: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float, float] | None:
    """Each side fitted to the edge pixels along its middle; (corners, RMS of the fits, pixels per side)."""
    ys, xs = np.nonzero(mask)
    return _fit_sides(quad, np.column_stack([xs, ys]).astype(np.float64), across_px=2.5, across_share=0.0)


def _fit_sides(
    quad: np.ndarray, points: np.ndarray, *, across_px: float, across_share: float
) -> tuple[np.ndarray, float, float] | None:
    """A quadrilateral's sides refitted to the points along each side's middle (12-88%: rounded corners
    left out; within max(across_px, across_share x its length) of it), its corners where they meet:
    (corners, RMS distance of the points to their sides, points per side), or None."""
    lines, rms_all, counts = [], [], []
    for k in range(4):
        a, b = quad[k], quad[(k + 1) % 4]
        length = float(np.hypot(*(b - a)))
        if length < 8:
            return None
        direction = (b - a) / length
        normal = np.array([-direction[1], direction[0]])
        rel = points - a
        along, across = rel @ direction, rel @ normal
        near = (
            (along > 0.12 * length) & (along < 0.88 * length) & (np.abs(across) < max(across_px, across_share * length))
        )
        if near.sum() < 6:
            return None
        point, fitted, rms = _line_fit(points[near])
        lines.append((point, fitted))
        rms_all.append(rms)
        counts.append(int(near.sum()))
    corners = []
    for k in range(4):
        corner = _intersect(*lines[k - 1], *lines[k])
        if corner is None:
            return None
        corners.append(corner)
    return np.array(corners), float(np.sqrt(np.mean(np.square(rms_all)))), float(np.mean(counts))


@dataclass(frozen=True)
class _Shifted:
    """A region measured in its own box, placed back at (top, left) of the photo."""

    inner: Any
    top: int
    left: int

    @property
    def image(self) -> np.ndarray:
        return np.asarray(self.inner.image)

    @property
    def area(self) -> float:
        return float(self.inner.area)

    @property
    def solidity(self) -> float:
        return float(self.inner.solidity)

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        top, left, bottom, right = self.inner.bbox
        return top + self.top, left + self.left, bottom + self.top, right + self.left


def _same_card(a: Candidate, b: Candidate) -> bool:
    ca, cb = np.mean(a.reference["corners"], axis=0), np.mean(b.reference["corners"], axis=0)
    return bool(np.hypot(*(ca - cb)) < 0.05)


def _verify_card(region: Any, work: Working) -> Candidate | None:
    if region.solidity < CARD_MIN_FILL:
        return None
    top, left = region.bbox[:2]
    contours = measure.find_contours(np.pad(region.image, 1).astype(float), 0.5)
    if not contours:
        return None
    contour = max(contours, key=len)[:, ::-1] - 1.0 + np.array([left, top])  # (x, y)
    hull = contour[_convex_hull_indices(contour)]
    perimeter = float(np.sum(np.hypot(*np.diff(np.vstack([hull, hull[:1]]), axis=0).T)))
    quad = None
    for tolerance in np.geomspace(0.01, 0.08, 12) * perimeter:
        approx = measure.approximate_polygon(np.vstack([hull, hull[:1]]), tolerance=float(tolerance))[:-1]
        if len(approx) == 4:
            quad = approx
            break
        if len(approx) < 4:
            return None
    if quad is None:
        return None
    # fit each side to the outline points near its middle (leave the rounded corners out)
    fitted = _fit_sides(quad, contour, across_px=2.0, across_share=0.04)
    if fitted is None:
        return None
    quad_pts, rms, _per_side = fitted
    quad_area = _polygon_area(quad_pts)
    fill = region.area / max(quad_area, 1.0)
    if fill < CARD_MIN_FILL or fill > 1.06:
        return None
    return _card_candidate(quad_pts, rms, len(contour) / 4.0, fill, work)


def _polygon_area(points: np.ndarray) -> float:
    return 0.5 * abs(
        float(np.dot(points[:, 0], np.roll(points[:, 1], -1)) - np.dot(points[:, 1], np.roll(points[:, 0], -1)))
    )


def _card_candidate(
    quad_pts: np.ndarray, rms: float, points_per_side: float, fill: float, work: Working
) -> Candidate | None:
    """A card from its four corners (working pixels, in order round it) if its shape is an ID-1 card's."""
    height, width = work.grey.shape
    sides = [float(np.hypot(*(quad_pts[(k + 1) % 4] - quad_pts[k]))) for k in range(4)]
    long_px = (sides[0] + sides[2]) / 2.0 if sides[0] + sides[2] > sides[1] + sides[3] else (sides[1] + sides[3]) / 2.0
    short_px = (sides[1] + sides[3]) / 2.0 if sides[0] + sides[2] > sides[1] + sides[3] else (sides[0] + sides[2]) / 2.0
    if short_px <= 0 or long_px < CARD_MIN_LONG_WORK / 2:
        return None
    aspect = long_px / short_px
    if abs(math.log(aspect / CARD_ASPECT)) > CARD_ASPECT_TOLERANCE:
        return None
    # opposite sides nearly parallel (perspective up to ~20 degrees)
    for k in (0, 1):
        d1 = quad_pts[k + 1] - quad_pts[k]
        d2 = quad_pts[(k + 3) % 4] - quad_pts[(k + 2) % 4]
        cos = abs(float(d1 @ d2) / (np.linalg.norm(d1) * np.linalg.norm(d2) + 1e-9))
        if cos < math.cos(math.radians(15)):
            return None
    if rms / long_px > CARD_MAX_RESIDUAL:
        return None
    factor = work.factor
    # the scale: geometric mean of the two sides' scales (foreshortening by tilt goes either way)
    mm_per_work = math.sqrt((85.60 / long_px) * (53.98 / short_px))
    pixels = 85.60 / mm_per_work * factor  # the long side's length in original pixels at that scale
    tilt = abs(math.log(aspect / CARD_ASPECT)) / 2.0 / math.sqrt(3.0)
    fit = rms / math.sqrt(max(points_per_side, 1.0)) / short_px * 2.0
    quantisation = 0.5 / short_px
    relative = math.sqrt(tilt**2 + fit**2 + quantisation**2)
    return Candidate(
        kind="card",
        pixels=pixels,
        millimetres=85.60,
        relative_uncertainty=relative,
        reference={"kind": "card", "corners": [[round(x / width, 5), round(y / height, 5)] for x, y in quad_pts]},
        score=fill * (1.0 - rms / long_px / CARD_MAX_RESIDUAL * 0.5),
        size_px=long_px * factor,
        extra={"aspect": aspect, "fill": fill, "rms": rms / long_px},
    )


def _convex_hull_indices(points: np.ndarray) -> np.ndarray:
    """Indices of the convex hull of 2-D points, counter-clockwise (monotone chain)."""
    order = np.lexsort((points[:, 1], points[:, 0]))

    def cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
        return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))

    lower: list[int] = []
    for i in order:
        while len(lower) >= 2 and cross(points[lower[-2]], points[lower[-1]], points[i]) <= 0:
            lower.pop()
        lower.append(int(i))
    upper: list[int] = []
    for i in order[::-1]:
        while len(upper) >= 2 and cross(points[upper[-2]], points[upper[-1]], points[i]) <= 0:
            upper.pop()
        upper.append(int(i))
    return np.array(lower[:-1] + upper[:-1])


# ---------------------------------------------------------------- ruler


def _patch_spectra(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per patch: the centre (x, y), the peak frequency vector (cycles/pixel), the peak's height above the
    spectrum's fall-off (log power), and the patch's contrast (standard deviation of the high-passed grey)."""
    height, width = grey.shape
    size, stride = RULER_PATCH, RULER_STRIDE
    empty = np.zeros((0, 2))
    if height < size or width < size:
        return empty, empty, np.zeros(0), np.zeros(0)
    # high-pass: shading and the lesion are slower than any tick period
    detail = grey - ndimage.gaussian_filter(grey, RULER_MAX_PERIOD_WORK / 2.0)
    windows = np.lib.stride_tricks.sliding_window_view(detail, (size, size))[::stride, ::stride]
    rows, cols = windows.shape[:2]
    patches = windows.reshape(rows * cols, size, size)
    patches = patches - patches.mean(axis=(1, 2), keepdims=True)
    contrast = patches.std(axis=(1, 2))
    hann = np.outer(np.hanning(size), np.hanning(size))
    power = np.abs(np.fft.rfft2(patches * hann)) ** 2  # (n, size, size//2+1)
    # the spectrum in polar form (direction x log-radius); an edge or shading falls off smoothly with
    # radius in its direction, a tick pattern stands out as a peak above that fall-off
    angles = np.linspace(-math.pi / 2, math.pi / 2, 72, endpoint=False)
    radii = np.geomspace(1.0 / (RULER_MAX_PERIOD_WORK * 1.3), 0.5, 44)
    fx_polar = radii[None, :] * np.cos(angles)[:, None]
    fy_polar = radii[None, :] * np.sin(angles)[:, None]
    ix = np.clip(np.rint(fx_polar * size).astype(int), 0, size // 2)
    iy = np.rint(fy_polar * size).astype(int) % size
    log_power = np.log(power[:, iy, ix] + 1e-12)  # (n, angles, radii)
    trend = ndimage.uniform_filter1d(log_power, size=11, axis=2, mode="nearest")
    excess = log_power - trend
    allowed = (radii >= 1.0 / RULER_MAX_PERIOD_WORK) & (radii <= 1.0 / RULER_MIN_PERIOD_WORK)
    excess[:, :, ~allowed] = -np.inf
    flat = excess.reshape(len(patches), -1).argmax(axis=1)
    ia, ir = np.unravel_index(flat, excess.shape[1:])
    share = excess.reshape(len(patches), -1)[np.arange(len(patches)), flat]
    # a tick pattern's harmonics are peaks too: the fundamental is the lowest of them
    step = math.log(radii[1] / radii[0])
    for divisor in (2.0, 3.0):
        lower = ir - round(math.log(divisor) / step)
        ok = lower >= 0
        rows = np.nonzero(ok)[0]
        below = np.full(len(patches), -np.inf)
        best_below = np.full(len(patches), -1)
        for shift in (-1, 0, 1):  # the log-radius grid is coarse: look at the neighbours too
            index = np.clip(lower[rows] + shift, 0, len(radii) - 1)
            values = excess[rows, ia[rows], index]
            better = values > below[rows]
            below[rows[better]] = values[better]
            best_below[rows[better]] = index[better]
        take = ok & (below >= 0.5 * share) & (below >= RULER_MIN_PEAK_SHARE)
        ir = np.where(take, best_below, ir)
        share = np.where(take, below, share)
    freq = np.column_stack([fx_polar[ia, ir], fy_polar[ia, ir]])
    ry, rx = np.divmod(np.arange(len(patches)), cols)
    centres = np.column_stack([rx * stride + size / 2.0, ry * stride + size / 2.0])
    return centres, freq, share, contrast


def find_rulers(work: Working) -> list[Candidate]:
    """Rulers, best first: looked for at the working size, then (if none) at twice its detail (fine ticks of a
    wide photo) and at half of it (a dermatoscope's close-up, with ticks far apart)."""
    levels = [work]
    if work.factor >= 1.5:
        size = (round(work.width / work.factor * 2), round(work.height / work.factor * 2))
        finer = Image.fromarray(work.original_grey).resize(size, Image.Resampling.BOX)
        levels.append(replace(work, grey=np.asarray(finer, dtype=np.float64), factor=work.factor / 2.0))
    coarse = work.grey[: work.grey.shape[0] // 2 * 2, : work.grey.shape[1] // 2 * 2]
    coarse = coarse.reshape(coarse.shape[0] // 2, 2, coarse.shape[1] // 2, 2).mean(axis=(1, 3))
    levels.append(replace(work, grey=coarse, factor=work.factor * 2.0))
    for level in levels:
        found = _find_rulers_at(level)
        if found:
            return found
    return []


def _find_rulers_at(work: Working) -> list[Candidate]:
    """Rulers (lines of patches with the same sharp tick period) at one working size."""
    centres, freq, share, contrast = _patch_spectra(work.grey)
    strong = np.nonzero((share >= RULER_MIN_PEAK_SHARE) & (contrast >= RULER_MIN_CONTRAST))[0]
    if len(strong) < RULER_MIN_PATCHES:
        return []
    used: set[int] = set()
    found: list[Candidate] = []
    groups = 0
    for seed in strong[np.argsort(-share[strong])]:
        if int(seed) in used:
            continue
        f0 = freq[seed]
        f0_norm = float(np.hypot(*f0))
        along = f0 / f0_norm  # the ruler's axis (ticks repeat along it)
        normal = np.array([-along[1], along[0]])
        members = []
        for j in strong:
            f = freq[j]
            same = min(np.hypot(*(f - f0)), np.hypot(*(f + f0))) <= 0.08 * f0_norm + 1.0 / RULER_PATCH
            in_line = abs(float((centres[j] - centres[seed]) @ normal)) <= RULER_PATCH * 0.6
            if same and in_line:
                members.append(int(j))
        used.update(members)
        if len(members) < RULER_MIN_PATCHES:
            continue
        groups += 1
        if groups > RULER_MAX_GROUPS:
            break
        candidate = _measure_ruler(work, centres[members], along, 1.0 / f0_norm, float(share[members].mean()))
        if candidate is not None:
            found.append(candidate)
    found.sort(key=lambda c: -c.score)
    return found


def _measure_ruler(
    work: Working, centres: np.ndarray, along: np.ndarray, period_work: float, share: float
) -> Candidate | None:
    factor = work.factor
    normal = np.array([-along[1], along[0]])
    origin = centres.mean(axis=0)
    positions = (centres - origin) @ along
    offset = float(np.median((centres - origin) @ normal))
    start = float(positions.min()) - RULER_PATCH / 2.0
    end = float(positions.max()) + RULER_PATCH / 2.0
    # sample the ORIGINAL photo along the ruler (one sample per original pixel), over the patches' width
    step = 1.0
    t = np.arange(start * factor, end * factor, step)
    offsets = np.arange(-RULER_PATCH / 2.0 * factor, RULER_PATCH / 2.0 * factor + 1e-9, max(1.0, factor))
    base = (origin + offset * normal) * factor
    xs = base[0] + t[None, :] * along[0] + offsets[:, None] * normal[0]
    ys = base[1] + t[None, :] * along[1] + offsets[:, None] * normal[1]
    samples = ndimage.map_coordinates(
        work.original_grey, [ys - 0.5, xs - 0.5], order=1, mode="constant", cval=np.nan
    )  # (offsets, t)
    valid = ~np.isnan(samples).any(axis=1)
    if valid.sum() < 3:
        return None
    samples, offsets = samples[valid], offsets[valid]
    period = period_work * factor
    # the rows that carry the ticks: power at the tick frequency
    phase = np.exp(-2j * math.pi * t / period)
    row_power = np.abs((samples - samples.mean(axis=1, keepdims=True)) @ phase)
    rows = row_power >= 0.5 * row_power.max()
    profile = samples[rows].mean(axis=0)
    profile = profile - ndimage.uniform_filter1d(profile, size=max(3, round(period * 3)))
    # refine the period on the whole profile: the peak of its spectrum near the patch estimate
    candidates = np.linspace(period * 0.9, period * 1.1, 201)
    spectrum = np.abs(np.exp(-2j * math.pi * t[None, :] / candidates[:, None]) @ profile)
    period = float(candidates[int(np.argmax(spectrum))])
    amplitude = 2.0 * float(spectrum.max()) / len(t)  # of the fundamental, grey 0-1
    for multiple in (3.0, 2.0):  # the patches may have seen a harmonic: is there a period 2 or 3 times longer?
        longer = period * multiple
        power_longer = 2.0 * abs(np.exp(-2j * math.pi * t / longer) @ profile) / len(t)
        if power_longer >= 0.5 * amplitude:
            candidates = np.linspace(longer * 0.95, longer * 1.05, 101)
            spectrum = np.abs(np.exp(-2j * math.pi * t[None, :] / candidates[:, None]) @ profile)
            period = float(candidates[int(np.argmax(spectrum))])
            amplitude = 2.0 * float(spectrum.max()) / len(t)
            break
    if amplitude < RULER_MIN_AMPLITUDE:
        return None
    # the ticks: the darkest point in each period window; position = offset + period x index
    smooth = ndimage.gaussian_filter1d(profile, max(0.5, period / 8.0))
    # windows centred on where the fundamental puts the ticks (its darkest phase)
    phase = float(np.angle(np.exp(-2j * math.pi * t / period) @ profile))
    first = (phase / (2 * math.pi) + 0.5) * period  # a tick's position (mod period)
    index = np.floor((t - first) / period + 0.5).astype(int)
    index -= index.min()
    ticks: list[float] = []
    depths: list[float] = []
    noise = 1.4826 * float(np.median(np.abs(np.diff(profile)))) / math.sqrt(2.0) + 1e-6
    for k in range(int(index.max()) + 1):
        window = np.nonzero(index == k)[0]
        if len(window) < 3:
            continue
        j = int(window[np.argmin(smooth[window])])
        shift = 0.0
        if 0 < j < len(smooth) - 1:
            denom = smooth[j - 1] - 2 * smooth[j] + smooth[j + 1]
            shift = 0.5 * (smooth[j - 1] - smooth[j + 1]) / denom if denom > 1e-12 else 0.0
        ticks.append(t[j] + float(np.clip(shift, -0.5, 0.5)) * step)
        depths.append(float(np.median(smooth[window]) - smooth[j]))
    # the ruler is the longest run of periods that each have a clear tick (one miss allowed between two)
    clear = np.array(depths) > 4.0 * noise
    best_run, run_start, best_start = 0, 0, 0
    misses = 0
    for k in range(len(clear) + 1):
        if k < len(clear) and (clear[k] or (misses == 0 and k + 1 < len(clear) and clear[k + 1])):
            misses += 0 if clear[k] else 1
            if k - run_start + 1 > best_run:
                best_run, best_start = k - run_start + 1, run_start
            continue
        run_start, misses = k + 1, 0
    if best_run < RULER_MIN_TICKS:
        return None
    keep_ticks = [ticks[k] for k in range(best_start, best_start + best_run) if clear[k]]
    ticks = keep_ticks
    positions_t = np.array(ticks)
    k = np.rint((positions_t - positions_t[0]) / period)
    for _ in range(3):
        slope, intercept = np.polyfit(k, positions_t, 1)
        residual = positions_t - (intercept + slope * k)
        keep = np.abs(residual) <= max(1.0, 0.2 * slope)
        if keep.all():
            break
        positions_t, k = positions_t[keep], k[keep]
        if len(k) < RULER_MIN_TICKS:
            return None
        k = np.rint((positions_t - positions_t[0]) / slope)
    slope, intercept = np.polyfit(k, positions_t, 1)
    residual = positions_t - (intercept + slope * k)
    n = len(k)
    if n < RULER_MIN_TICKS or len(np.unique(k)) < RULER_MIN_TICKS:
        return None
    sigma = float(np.sqrt(np.sum(residual**2) / max(n - 2, 1)))
    se = sigma / math.sqrt(float(np.sum((k - k.mean()) ** 2)))
    # a ruler's ticks sit on a line: their residual small against the period
    if sigma > 0.08 * slope:
        return None
    height, width = work.grey.shape
    p0 = base / factor + along * (positions_t.min() / factor)
    p1 = base / factor + along * (positions_t.max() / factor)
    return Candidate(
        kind="ruler",
        pixels=float(slope),
        millimetres=1.0,
        relative_uncertainty=se / float(slope),
        reference={
            "kind": "ruler",
            "line": [
                [round(p0[0] / width, 5), round(p0[1] / height, 5)],
                [round(p1[0] / width, 5), round(p1[1] / height, 5)],
            ],
        },
        score=share * min(1.0, n / 20.0),
        size_px=float(positions_t.max() - positions_t.min()),
        extra={"ticks": n, "residual": sigma / float(slope), "share": share},
    )


def lab_image(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(color.rgb2lab(rgb))
