"""Photos of known size with a coin beside the lesion, for the size tests (evaluation.size_scenes, the size
study's builder): a real HAM10000 lesion on its own skin, scaled so that its reference outline
(testdata/change_masks) spans `lesion_mm`, a coin drawn beside it, noise and JPEG compression."""

import io
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import lesion_image
from evaluation.size_scenes import SceneSpec, build_scene
from measurement.size import feret

MASKS = Path(__file__).resolve().parents[2] / "testdata" / "change_masks"
MM_PER_PIXEL = 0.05  # an 80 x 60 mm view on 1600 x 1200 pixels
EURO_MM = 23.25


def coin_photo(name: str = "ISIC_0024314", *, seed: int = 0, lesion_mm: float = 7.0) -> tuple[bytes, float]:
    """A JPEG of the scene, and the true long diameter (mm) of the lesion's outline in it."""
    source = np.asarray(Image.open(io.BytesIO(lesion_image(f"{name}.jpg"))).convert("RGB"))
    mask = np.asarray(Image.open(MASKS / f"{name}.png").convert("L")) > 127
    spec = SceneSpec(kind="coin", mm_per_pixel=MM_PER_PIXEL, lesion_mm=lesion_mm, coin_mm=EURO_MM, seed=seed)
    scene = build_scene(spec, source, mask, source, mask)  # the skin: the same photo, its lesion filled in
    out = io.BytesIO()
    scene.image.save(out, format="JPEG", quality=92)
    return out.getvalue(), feret(np.asarray(scene.outline_px, dtype=float))[0] * MM_PER_PIXEL
