"""Is this photo something the classifier can assess? Cheap checks before seven confident numbers.

The CNN gives a probability for each of seven lesion types to *any* picture, a landscape or a
black frame included, and its softmax is often just as confident on those as on a real lesion.
So before the numbers are stored, `assess()` looks at the photo the way the model will (the same
centre square crop) and refuses, with a reason a patient can act on, what is:

- too dark or too bright (exposure), or a blank frame (no contrast);
- too blurry (variance of the Laplacian, the usual focus measure);
- not a colour close-up of skin: a black-and-white picture, or too little of it in skin hues;
- otherwise unlike the dermoscopy photos the model learnt from: a Mahalanobis distance over a
  dozen colour, texture and layout statistics, whose mean and covariance were fitted on the
  HAM10000 training split (`quality_stats.json`, written by `python -m evaluation.not_assessable
  --fit`). Every threshold was chosen on the validation split, never on the test split;
- skin with nothing standing out in the middle (`lesion_contrast`: the patient missed the mole),
  its limit chosen on training parts.

A served model with feature checks (`training.feature_checks`) judges "unlike a lesion photo" and
"plain skin" on its CNN's own features instead of the statistics' distance, which refused old
dermatoscopes' melanomas; its callers pass `distance_check=False` (`Classifier.assessment`).

Only numpy and Pillow are imported, so the web process and the tests can use it cheaply, and it
does not depend on the CNN: a retrained model needs no new statistics.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from training.contract import centre_square

STATS_FILE = Path(__file__).resolve().parent / "quality_stats.json"
WORK_SIZE = 256  # side of the square the checks look at: enough for focus, cheap for the rest

# The statistics `features()` returns, in order; the stats file records them so a mismatch is caught.
FEATURE_NAMES: tuple[str, ...] = (
    "luminance_mean",
    "luminance_std",
    "dark_fraction",
    "bright_fraction",
    "saturation_mean",
    "skin_hue_fraction",
    "a_mean",
    "b_mean",
    "a_std",
    "b_std",
    "log_laplacian_variance",
    "edge_fraction",
    "centre_minus_border",
)

# Reasons, worded for the patient; the page adds "Try another photo: close-up, in focus, good light."
TOO_DARK = "The photo is too dark"
TOO_BRIGHT = "The photo is too bright (overexposed)"
BLANK = "The photo shows almost nothing (a blank or uniform frame)"
BLURRY = "The photo is too blurry"
NOT_COLOUR = "The photo is black and white; the model needs a colour photo of the skin"
NOT_SKIN = "The photo does not look like skin"
NOT_LESION = "The photo does not look like a close-up of a skin lesion"
NO_LESION_VISIBLE = "No lesion stands out from the skin in the middle of the photo: centre the mole in the frame"


@dataclass(frozen=True)
class Assessment:
    """Whether the classifier's output for a photo can be shown, and if not, why."""

    ok: bool
    reason: str = ""  # empty when ok
    scores: dict[str, float] = field(default_factory=dict, compare=False)  # the measured values, for tuning


def _square(image: Image.Image, size: int = WORK_SIZE) -> np.ndarray:
    """The centre square the model sees, as uint8 RGB (size x size x 3)."""
    return np.asarray(centre_square(image, size), dtype=np.uint8)


# sRGB → linear light for each of the 256 byte values: a table instead of a power per pixel.
_SRGB = np.arange(256) / 255.0
_LINEAR = np.where(_SRGB <= 0.04045, _SRGB / 12.92, ((_SRGB + 0.055) / 1.055) ** 2.4)
# sRGB (D65) → XYZ, divided by the white point: one matrix product per pixel.
_XYZ = (
    np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
    / np.array([0.95047, 1.0, 1.08883])[:, None]
).T


def _lab(pixels: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of uint8 sRGB pixels; L 0..100, a and b about -100..100."""
    xyz = _LINEAR[pixels] @ _XYZ
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


@lru_cache(maxsize=8)
def _radius(n: int) -> np.ndarray:
    """Each pixel's distance from the centre of an n x n square, 1 at the middle of an edge."""
    yy, xx = np.mgrid[0:n, 0:n]
    radius = np.hypot(yy - (n - 1) / 2, xx - (n - 1) / 2) / (n / 2)
    radius.setflags(write=False)
    return radius


def _laplacian_variance(gray: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian of 0..255 grey values: low when nothing is in focus."""
    lap = gray[1:-1, :-2] + gray[1:-1, 2:] + gray[:-2, 1:-1] + gray[2:, 1:-1] - 4 * gray[1:-1, 1:-1]
    return float(lap.var())


def features(image: Image.Image) -> np.ndarray:
    """The statistics in `FEATURE_NAMES` for one Pillow image of any mode and size."""
    pixels = _square(image)
    rgb = pixels / 255.0
    lab = _lab(pixels)
    lightness = lab[..., 0] / 100.0
    hsv = np.asarray(Image.fromarray(pixels).convert("HSV"), dtype=np.float64)  # H, S, V 0..255
    hue_degrees = hsv[..., 0] * 360.0 / 255.0
    saturation = hsv[..., 1] / 255.0
    # Skin of every colour, and lesions on it, lie between red-magenta and yellow-orange; a pixel
    # counts only if it has some colour (grey pixels have an arbitrary hue).
    skin_hue = ((hue_degrees >= 330) | (hue_degrees <= 60)) & (saturation > 0.08)

    gray = rgb @ np.array([0.299, 0.587, 0.114]) * 255.0
    # Focus is measured after a light blur, so JPEG noise and sensor grain do not count as detail.
    smooth = np.asarray(Image.fromarray(gray.astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7)), dtype=np.float64)
    gy, gx = np.gradient(smooth)
    magnitude = np.hypot(gx, gy)

    # Dermoscopy centres the lesion, usually darker than the skin around it.
    radius = _radius(rgb.shape[0])
    centre = lightness[radius < 0.4].mean()
    border = lightness[(radius > 0.6) & (radius < 0.95)].mean()

    return np.array(
        [
            lightness.mean(),
            lightness.std(),
            float((lightness < 0.08).mean()),
            float((lightness > 0.97).mean()),
            saturation.mean(),
            float(skin_hue.mean()),
            lab[..., 1].mean(),
            lab[..., 2].mean(),
            lab[..., 1].std(),
            lab[..., 2].std(),
            np.log1p(_laplacian_variance(smooth)),
            float((magnitude > 20).mean()),
            centre - border,
        ]
    )


CONTRAST_SIZE = 128  # side of the square the lesion-contrast check looks at
HAIR_FILTER = 5  # px at 128: a grey closing this wide removes hairs and pen lines, not a mole


def _rank_filter(pixels: np.ndarray, size: int, pick: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Pillow's MaxFilter / MinFilter (`pick` np.maximum / np.minimum over a size x size window,
    edges repeated), as two separable passes of shifted arrays: the same pixels, 20 times faster."""
    half = size // 2
    padded = np.pad(pixels, ((half, half), (half, half), (0, 0)), mode="edge")
    rows = padded[:, : padded.shape[1] - 2 * half]
    for shift in range(1, size):
        rows = pick(rows, padded[:, shift : shift + padded.shape[1] - 2 * half])
    out = rows[: rows.shape[0] - 2 * half]
    for shift in range(1, size):
        out = pick(out, rows[shift : shift + rows.shape[0] - 2 * half])
    return out


def lesion_contrast(image: Image.Image) -> float:
    """How strongly something in the middle of the photo stands out from the skin around it.

    The skin colour is the median CIELAB colour of a ring along the edge of the model's centre
    square; the contrast is the 99.5th percentile of every pixel's CIELAB distance from it inside
    the middle three quarters, after a closing that removes hairs and pen marks (thin and dark)
    and a light blur. A mole of 1 % of that area is enough to lift it; plain skin, even hairy or
    shaded, stays low.
    """
    pixels = np.asarray(centre_square(image.convert("RGB"), CONTRAST_SIZE))
    closed = _rank_filter(_rank_filter(pixels, HAIR_FILTER, np.maximum), HAIR_FILTER, np.minimum)
    square = Image.fromarray(closed).filter(ImageFilter.GaussianBlur(1))
    lab = _lab(np.asarray(square))
    radius = _radius(CONTRAST_SIZE)
    skin = np.median(lab[(radius > 0.8) & (radius < 0.98)], axis=0)
    distance = np.linalg.norm(lab - skin, axis=-1)
    return float(np.percentile(distance[radius < 0.75], 99.5))


# Fixed limits with a wide margin outside every validation lesion (the darkest has a mean
# lightness of 0.34, the flattest a spread of 0.019, the greyest a saturation of 0.06).
DARK_BELOW = 0.20  # mean L*/100
BRIGHT_ABOVE = 0.90  # mean L*/100
BRIGHT_FRACTION_ABOVE = 0.5  # share of nearly white pixels
BLANK_BELOW = 0.01  # standard deviation of L*/100
GREY_BELOW = 0.03  # mean HSV saturation
# Dermoscopy is soft: log(1 + Laplacian variance) of validation lesions is 1.02 at the least
# and 1.26 at the 0.5th percentile; a blur a patient would notice brings it under 1.
BLURRY_BELOW = 1.1
SKIN_HUE_BELOW = 0.3  # when the photo is unlike the lesions, say "not skin" if this little is skin-hued
# Chosen on the training parts only (never on what reports/not_assessable.md scores), so that the
# check refuses no malignant lesion it was shown: the lowest contrast among all 1,710 malignant
# training photos of every source is 10.5 (a HAM10000 one; phone photos 11.6), while skin with no
# lesion (the corners of 30 PAD-UFES-20 training phone photos, 4 each) has a median of 11 and
# 41 % of it lies below 10. Of 1,500 benign training photos, 4 (0.3 %) are below 10.
LESION_CONTRAST_BELOW = 10.0


def _transformed(values: np.ndarray) -> np.ndarray:
    """Features on scales where a Gaussian fits the lesions (logs of spreads and of rare fractions)."""
    values = np.array(values, dtype=np.float64, copy=True)
    for index, name in enumerate(FEATURE_NAMES):
        if name == "skin_hue_fraction":
            values[..., index] = np.log(1 - values[..., index] + 1e-3)
        elif name.endswith("fraction") or name.endswith("_std"):
            values[..., index] = np.log(values[..., index] + 1e-3)
    return values


@dataclass(frozen=True)
class LesionStatistics:
    """Mean and inverse covariance of the lesions' transformed features, and the distance limit."""

    mean: np.ndarray
    inverse_covariance: np.ndarray
    distance_above: float  # the 99th percentile of validation lesions' distances

    @classmethod
    def fit(cls, train: np.ndarray, validation: np.ndarray, quantile: float = 99.0) -> LesionStatistics:
        """Fit on training lesions' features, set the limit on validation lesions' distances."""
        transformed = _transformed(train)
        covariance = np.cov(transformed, rowvar=False) + np.eye(len(FEATURE_NAMES)) * 1e-6
        fitted = cls(transformed.mean(axis=0), np.linalg.inv(covariance), 0.0)
        limit = float(np.percentile(fitted.distance(validation), quantile))
        return cls(fitted.mean, fitted.inverse_covariance, round(limit, 3))

    def distance(self, values: np.ndarray) -> np.ndarray:
        """Mahalanobis distance of raw feature rows (or one row) from the training lesions."""
        delta = _transformed(np.atleast_2d(values)) - self.mean
        return np.sqrt(np.einsum("ij,jk,ik->i", delta, self.inverse_covariance, delta))

    def to_json(self, **extra: object) -> dict:
        return {
            "features": list(FEATURE_NAMES),
            "mean": self.mean.round(8).tolist(),
            "inverse_covariance": self.inverse_covariance.round(8).tolist(),
            "distance_above": self.distance_above,
            **extra,
        }

    @classmethod
    def from_json(cls, data: dict) -> LesionStatistics:
        if tuple(data["features"]) != FEATURE_NAMES:
            raise ValueError(
                "the quality statistics were fitted on other features; run python -m evaluation.not_assessable --fit"
            )
        return cls(np.array(data["mean"]), np.array(data["inverse_covariance"]), float(data["distance_above"]))


@lru_cache(maxsize=4)
def load_statistics(path: Path = STATS_FILE) -> LesionStatistics:
    """The committed lesion statistics (read once per process)."""
    return LesionStatistics.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def assess_features(
    values: np.ndarray,
    statistics: LesionStatistics | None = None,
    *,
    contrast: float | None = None,
    distance_check: bool = True,
    refusal: str = "",
) -> Assessment:
    """The decision for already computed `features()` and `lesion_contrast()` (None: that check is
    skipped): the first check that fails gives the reason. `distance_check=False` leaves out the
    distance over these statistics: a model with feature checks (`training.feature_checks`) judges
    that on the CNN's own features, which refuse more non-lesions and fewer real lesions; their
    reason, when they refuse, is `refusal`, the last check."""
    statistics = statistics or load_statistics()
    value = dict(zip(FEATURE_NAMES, (float(v) for v in values), strict=True))
    distance = float(statistics.distance(values)[0])
    scores = {**value, "distance": distance}
    if contrast is not None:
        scores["lesion_contrast"] = contrast
    # Exposure first: a dark or blank frame also looks blurry and unlike skin, and the light is
    # what the patient should fix.
    if value["luminance_mean"] < DARK_BELOW:
        return Assessment(False, TOO_DARK, scores)
    if value["luminance_mean"] > BRIGHT_ABOVE or value["bright_fraction"] > BRIGHT_FRACTION_ABOVE:
        return Assessment(False, TOO_BRIGHT, scores)
    if value["luminance_std"] < BLANK_BELOW:
        return Assessment(False, BLANK, scores)
    if value["saturation_mean"] < GREY_BELOW:
        return Assessment(False, NOT_COLOUR, scores)
    if value["log_laplacian_variance"] < BLURRY_BELOW:
        return Assessment(False, BLURRY, scores)
    if distance_check and distance > statistics.distance_above:
        return Assessment(False, NOT_SKIN if value["skin_hue_fraction"] < SKIN_HUE_BELOW else NOT_LESION, scores)
    # Last: skin that passes every other check but shows no lesion (the patient missed the mole).
    if contrast is not None and contrast < LESION_CONTRAST_BELOW:
        return Assessment(False, NO_LESION_VISIBLE, scores)
    if refusal:
        return Assessment(False, refusal, scores)
    return Assessment(True, "", scores)


def assess(
    image: Image.Image,
    statistics: LesionStatistics | None = None,
    *,
    distance_check: bool = True,
    refusal: str = "",
) -> Assessment:
    """Can the classifier's output for `image` be trusted enough to show? If not, why not.

    For a model with feature checks pass `distance_check=False` and its `Prediction.refusal`
    (`Classifier.assessment` does)."""
    return assess_features(
        features(image), statistics, contrast=lesion_contrast(image), distance_check=distance_check, refusal=refusal
    )
