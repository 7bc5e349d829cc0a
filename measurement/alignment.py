"""Align a later photo of a lesion to an earlier one: rotation, scale and shift (a similarity).

ORB keypoints (scikit-image) on the contrast-equalised grey photo, matched both ways (cross-check,
Lowe's ratio), then RANSAC of a similarity transform. The alignment says it failed rather than
return a wrong overlay: it needs at least MIN_INLIERS matches that agree, a share of agreeing
matches of at least MIN_INLIER_RATIO, and a scale between MIN_SCALE and MAX_SCALE.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from skimage import exposure, feature, measure, transform

from measurement.segmentation import as_rgb_array

ALIGN_SIZE = 256  # long side the keypoints are found at (small photos are enlarged to it)
KEYPOINTS = 500
MAX_RATIO = 0.85  # Lowe's ratio test on Hamming distances
RESIDUAL_PIXELS = 3.0  # RANSAC inlier distance, in ALIGN_SIZE pixels
MIN_INLIERS = 15
MIN_INLIER_RATIO = 0.2
MIN_SCALE, MAX_SCALE = 0.4, 2.5  # later photo's pixel size vs the earlier one's
# Names the keypoints `photo_features` finds, for caches of them (inference.keypoints): change it
# with anything that changes them (_grey, _keypoints, ALIGN_SIZE, KEYPOINTS).
FEATURES_VERSION = f"orb{KEYPOINTS}-{ALIGN_SIZE}-v1"

NOT_ENOUGH_FEATURES = "not_enough_features"
NO_AGREEMENT = "no_agreement"
IMPLAUSIBLE_SCALE = "implausible_scale"
REASONS = {
    NOT_ENOUGH_FEATURES: "too little detail in one of the photos to match them",
    NO_AGREEMENT: "the photos could not be matched; they may show different places",
    IMPLAUSIBLE_SCALE: "the match found would need an implausible zoom, so it was not trusted",
}


@dataclass(frozen=True)
class Alignment:
    """How the later photo maps onto the earlier one.

    `matrix` is the 3x3 similarity from later-photo pixel coordinates (x, y) to earlier-photo pixel
    coordinates, in each photo's own full size; None when not ok.
    """

    ok: bool
    reason: str | None
    matrix: np.ndarray | None
    scale: float  # earlier-photo pixels per later-photo pixel (1.0 when not ok)
    rotation_degrees: float
    shift: tuple[float, float]  # (x, y) in earlier-photo pixels
    inliers: int
    matches: int

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for the API."""
        return {
            "ok": self.ok,
            "reason": self.reason,
            "matrix": None if self.matrix is None else [[round(float(v), 6) for v in row] for row in self.matrix],
            "scale": round(self.scale, 4),
            "rotation_degrees": round(self.rotation_degrees, 2),
            "shift": [round(self.shift[0], 2), round(self.shift[1], 2)],
            "inliers": self.inliers,
            "matches": self.matches,
        }


def _failed(reason: str, inliers: int = 0, matches: int = 0) -> Alignment:
    return Alignment(False, reason, None, 1.0, 0.0, (0.0, 0.0), inliers, matches)


def _grey(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """Equalised grey photo at ALIGN_SIZE on the long side, and the factor from full to that size."""
    factor = ALIGN_SIZE / max(rgb.shape[:2])
    shape = (round(rgb.shape[0] * factor), round(rgb.shape[1] * factor))
    grey = transform.resize(rgb.mean(axis=-1) / 255.0, shape, anti_aliasing=factor < 1)
    return exposure.equalize_adapthist(grey, clip_limit=0.02), factor


def _keypoints(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Six pyramid levels (1.2x apart) cover a 2.5x zoom between photos and keep it fast.
    orb = feature.ORB(n_keypoints=KEYPOINTS, fast_threshold=0.04, n_scales=6)
    try:
        orb.detect_and_extract(grey)
    except RuntimeError:  # scikit-image raises when no keypoint at all is found
        return np.empty((0, 2)), np.empty((0, 256), dtype=bool)
    keypoints, descriptors = orb.keypoints, orb.descriptors
    assert keypoints is not None and descriptors is not None  # set by detect_and_extract
    return keypoints[:, ::-1], descriptors  # (x, y)


@dataclass(frozen=True)
class PhotoFeatures:
    """Keypoints of one photo, found once and reused for every pair it is in."""

    xy: np.ndarray  # (n, 2) keypoint positions (x, y) at ALIGN_SIZE
    descriptors: np.ndarray  # (n, 256) bool ORB descriptors
    factor: float  # ALIGN_SIZE pixels per full-size photo pixel


def photo_features(image: Image.Image | np.ndarray) -> PhotoFeatures:
    """The ORB keypoints of a photo, for `align_features`."""
    grey, factor = _grey(as_rgb_array(image))
    xy, descriptors = _keypoints(grey)
    return PhotoFeatures(xy=xy, descriptors=descriptors, factor=factor)


def align_photos(earlier: Image.Image | np.ndarray, later: Image.Image | np.ndarray, *, seed: int = 0) -> Alignment:
    """The similarity that maps the later photo onto the earlier one, or why there is none."""
    return align_features(photo_features(earlier), photo_features(later), seed=seed)


def align_features(earlier: PhotoFeatures, later: PhotoFeatures, *, seed: int = 0) -> Alignment:
    """`align_photos` on keypoints found before."""
    earlier_xy, earlier_desc, earlier_factor = earlier.xy, earlier.descriptors, earlier.factor
    later_xy, later_desc, later_factor = later.xy, later.descriptors, later.factor
    if len(earlier_xy) < MIN_INLIERS or len(later_xy) < MIN_INLIERS:
        return _failed(NOT_ENOUGH_FEATURES)

    pairs = feature.match_descriptors(later_desc, earlier_desc, cross_check=True, max_ratio=MAX_RATIO)
    if len(pairs) < MIN_INLIERS:
        return _failed(NO_AGREEMENT, matches=len(pairs))
    source, target = later_xy[pairs[:, 0]], earlier_xy[pairs[:, 1]]
    model, inliers = measure.ransac(
        (source, target),
        transform.SimilarityTransform,
        min_samples=3,
        residual_threshold=RESIDUAL_PIXELS,
        max_trials=1000,
        rng=seed,
    )
    count = 0 if inliers is None else int(inliers.sum())
    if model is None or count < MIN_INLIERS or count / len(pairs) < MIN_INLIER_RATIO:
        return _failed(NO_AGREEMENT, count, len(pairs))

    # From full-size later pixels to full-size earlier pixels: shrink, map, enlarge.
    matrix = (
        np.diag([1 / earlier_factor, 1 / earlier_factor, 1.0])
        @ model.params
        @ np.diag([later_factor, later_factor, 1.0])
    )
    similarity = transform.SimilarityTransform(matrix=matrix)
    scale = float(similarity.scale)
    if not MIN_SCALE <= scale <= MAX_SCALE:
        return _failed(IMPLAUSIBLE_SCALE, count, len(pairs))
    return Alignment(
        ok=True,
        reason=None,
        matrix=matrix,
        scale=scale,
        rotation_degrees=float(np.degrees(similarity.rotation)),
        shift=(float(matrix[0, 2]), float(matrix[1, 2])),
        inliers=count,
        matches=len(pairs),
    )


def warp_to_earlier(later: np.ndarray, alignment: Alignment, earlier_shape: tuple[int, int]) -> np.ndarray:
    """The later photo (HxWx3 uint8) or mask (HxW bool) resampled onto the earlier photo's pixels."""
    if alignment.matrix is None:
        raise ValueError("the photos are not aligned")
    inverse = transform.SimilarityTransform(matrix=np.linalg.inv(alignment.matrix))
    if later.dtype == bool:
        warped = transform.warp(later.astype(float), inverse, output_shape=earlier_shape, order=1)
        return warped >= 0.5
    warped = transform.warp(later, inverse, output_shape=earlier_shape, order=1, preserve_range=True)
    return np.clip(warped, 0, 255).astype(np.uint8)
