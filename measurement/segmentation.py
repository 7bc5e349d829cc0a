"""Automatic lesion outline on a dermoscopy or phone photo (classical, scikit-image).

The method, chosen on the committed test images and on the stability of outlines between photos
of the same HAM10000 lesion (reports/change_detection.md):

1. work at most `WORK_SIZE` pixels on the long side; Shades-of-Gray colour constancy, so a yellow
   or blue cast of the camera does not move the skin colour;
2. remove hairs (thin dark lines) with a grey-level closing, then blur;
3. ignore the dark vignette of a dermatoscope (very dark pixels connected to the photo's edge);
4. estimate the skin colour from a ring along the edge of the photo and score every pixel by its
   CIELAB colour distance to that skin (darker, redder, bluer or yellower all count);
5. Otsu threshold of that score, keep the component that is large and near the centre, fill its
   holes, smooth it with an opening and closing;
6. refuse rather than guess: too little contrast, too small, or filling the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from skimage import color, filters, measure, morphology, transform

WORK_SIZE = 256  # long side, pixels, the outline is found at
MIN_AREA_FRACTION = 0.01  # smaller than 1% of the photo: not a credible lesion
MAX_AREA_FRACTION = 0.85  # more than that: the lesion fills the photo, no outline to measure
MAX_EDGE_FRACTION = 0.5  # outline along more than half the photo's edge: not a closed lesion
MIN_SOLIDITY = 0.74  # area / convex hull area below this: a ring or a web of hairs, not a lesion
MIN_CONTRAST = 8.0  # CIELAB distance between lesion and skin medians below this: no lesion seen
VIGNETTE_LIGHTNESS = 18.0  # L* below this, joined to the edge, is the dermatoscope's dark ring

# Failure reasons (stable codes the app can translate into words).
NO_CONTRAST = "no_contrast"
TOO_SMALL = "too_small"
FILLS_PHOTO = "fills_photo"
NO_CLEAR_OUTLINE = "no_clear_outline"
REASONS = {
    NO_CONTRAST: "no lesion stands out clearly from the skin",
    TOO_SMALL: "the lesion found is too small to outline",
    FILLS_PHOTO: "the lesion fills the photo, so its outline cannot be seen",
    NO_CLEAR_OUTLINE: "no clear outline was found (hairs or a faint lesion)",
}


@dataclass(frozen=True)
class Segmentation:
    """The outline found on one photo.

    `mask` is a boolean array of the photo's height x width (True inside the lesion); it is the
    best candidate even when `ok` is False, for display. `reason` is one of REASONS when not ok.
    """

    mask: np.ndarray
    ok: bool
    reason: str | None
    contrast: float  # CIELAB distance between the lesion's and the skin's median colours
    edge_fraction: float  # share of the photo's edge the lesion touches

    @property
    def area_fraction(self) -> float:
        return float(self.mask.mean())


def as_rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """An HxWx3 uint8 RGB array from a Pillow image or an array (grey, RGB or RGBA)."""
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.shape[-1] == 4:
        array = array[..., :3]
    if array.dtype != np.uint8:
        array = np.clip(array * 255 if array.max() <= 1.0 else array, 0, 255).astype(np.uint8)
    return array


def shades_of_gray(rgb: np.ndarray, power: float = 6.0) -> np.ndarray:
    """Shades-of-Gray colour constancy (Finlayson & Trezzi 2004), float RGB in [0, 1]."""
    image = rgb.astype(np.float64) / 255.0
    illuminant = np.power(np.mean(np.power(image, power), axis=(0, 1)), 1.0 / power)
    illuminant = illuminant / (np.linalg.norm(illuminant) + 1e-9) * np.sqrt(3.0)
    return np.clip(image / (illuminant + 1e-9), 0.0, 1.0)


def working_image(image: Image.Image | np.ndarray, size: int = WORK_SIZE) -> np.ndarray:
    """The photo as float RGB, at most `size` pixels on the long side, colour-corrected."""
    rgb = as_rgb_array(image)
    height, width = rgb.shape[:2]
    scale = size / max(height, width)
    if scale < 1.0:
        shape = (max(1, round(height * scale)), max(1, round(width * scale)))
        rgb = (transform.resize(rgb, shape, anti_aliasing=True, preserve_range=True)).astype(np.uint8)
    return shades_of_gray(rgb)


def _remove_hair(rgb: np.ndarray, radius: int) -> np.ndarray:
    """RGB image with thin dark lines (hairs, ruler marks) closed over by their surroundings."""
    footprint = morphology.disk(radius)
    grey = rgb.mean(axis=-1)
    hair = (morphology.closing(grey, footprint) - grey) > 0.08  # much darker than what closes over it
    if not hair.any():
        return rgb
    hair = morphology.dilation(hair, morphology.disk(1))
    out = rgb.copy()
    for channel in range(3):
        closed = morphology.closing(rgb[..., channel], morphology.disk(radius + 1))
        out[..., channel][hair] = closed[hair]
    return out


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every background region that does not reach the photo's edge filled."""
    background = measure.label(~mask, connectivity=1)
    edge = np.unique(np.concatenate([background[0], background[-1], background[:, 0], background[:, -1]]))
    return mask | ((background > 0) & ~np.isin(background, edge))


def _vignette(lab: np.ndarray) -> np.ndarray:
    """The dermatoscope's dark corners: very dark pixels connected to the photo's edge."""
    dark = lab[..., 0] < VIGNETTE_LIGHTNESS
    if not dark.any():
        return dark
    labels = measure.label(dark)
    edge_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.isin(labels, edge_labels[edge_labels > 0])


def _edge_ring(shape: tuple[int, int], width: int) -> np.ndarray:
    ring = np.zeros(shape, dtype=bool)
    ring[:width] = ring[-width:] = True
    ring[:, :width] = ring[:, -width:] = True
    return ring


def _edge_fraction(mask: np.ndarray) -> float:
    edge = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    return float(edge.mean())


def _choose_component(candidates: np.ndarray) -> np.ndarray:
    """The component that is large and near the centre (area discounted by distance)."""
    labels = measure.label(candidates)
    if labels.max() == 0:
        return candidates
    height, width = candidates.shape
    centre = np.array([height / 2.0, width / 2.0])
    half_diagonal = float(np.hypot(height, width)) / 2.0
    best, best_score = 0, -1.0
    for region in measure.regionprops(labels):
        distance = float(np.linalg.norm(np.array(region.centroid) - centre)) / half_diagonal
        score = region.area * (1.0 - 0.8 * min(distance, 1.0)) ** 2
        if score > best_score:
            best, best_score = region.label, score
    return labels == best


def segment_lesion(image: Image.Image | np.ndarray) -> Segmentation:
    """Outline the lesion on a photo; see the module docstring for the method."""
    rgb = as_rgb_array(image)
    height, width = rgb.shape[:2]
    work = working_image(rgb)
    h, w = work.shape[:2]
    unit = max(h, w) / 200.0  # sizes below are tuned for a 200-pixel photo
    lab = color.rgb2lab(_remove_hair(work, radius=max(2, round(3 * unit))))
    lab = np.stack([filters.gaussian(lab[..., c], sigma=2.0 * unit) for c in range(3)], axis=-1)

    vignette = _vignette(lab)
    if vignette.mean() > 0.01:
        # Whatever borders the dark ring is its shaded rim, not skin: keep out of both estimates.
        vignette = morphology.dilation(vignette, morphology.disk(max(1, round(4 * unit))))
    ring = _edge_ring((h, w), max(2, round(min(h, w) * 0.08))) & ~vignette
    if ring.sum() < 20:  # the vignette covers the whole edge: use what is left outside the centre
        ring = ~vignette
    skin = np.median(lab[ring], axis=0)
    # Darker counts double: pigment is what lesions mostly add; lighter skin (glare) does not.
    difference = lab - skin
    difference[..., 0] = np.where(difference[..., 0] < 0, 2.0 * difference[..., 0], 0.5 * difference[..., 0])
    score = np.linalg.norm(difference, axis=-1)
    score[vignette] = 0.0

    valid = score[~vignette]
    threshold = filters.threshold_otsu(valid) if valid.size and np.ptp(valid) > 0 else np.inf
    candidates = (score > threshold) & ~vignette
    candidates = morphology.opening(candidates, morphology.disk(max(1, round(2 * unit))))
    small = morphology.remove_small_objects(candidates, max_size=int(0.002 * h * w))
    mask = _choose_component(small if small.any() else candidates)
    mask = fill_holes(mask)
    mask = morphology.closing(mask, morphology.disk(max(1, round(3 * unit))))
    mask = morphology.opening(mask, morphology.disk(max(1, round(3 * unit))))
    mask = fill_holes(mask)
    if mask.any():
        mask = _choose_component(mask)

    inside, outside = lab[mask], lab[ring & ~mask]
    if inside.size and outside.size:
        contrast = float(np.linalg.norm(np.median(inside, axis=0) - np.median(outside, axis=0)))
    else:
        contrast = 0.0
    area = float(mask.sum()) / float((~vignette).sum() or 1)
    edge_fraction = _edge_fraction(mask)
    solidity = float(measure.regionprops(mask.astype(np.uint8))[0].solidity) if mask.any() else 0.0

    if (h, w) != (height, width):
        mask = transform.resize(mask.astype(float), (height, width), order=1) >= 0.5
    if contrast < MIN_CONTRAST:
        reason: str | None = NO_CONTRAST
    elif area < MIN_AREA_FRACTION:
        reason = TOO_SMALL
    elif area > MAX_AREA_FRACTION or edge_fraction > MAX_EDGE_FRACTION:
        reason = FILLS_PHOTO
    elif solidity < MIN_SOLIDITY:
        reason = NO_CLEAR_OUTLINE
    else:
        reason = None
    return Segmentation(mask=mask, ok=reason is None, reason=reason, contrast=contrast, edge_fraction=edge_fraction)
