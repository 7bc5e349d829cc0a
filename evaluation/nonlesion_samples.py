"""Photos that are not skin lesions, for tuning, testing and reporting the not-assessable checks.

Two sources, both available offline: sample photos that ship inside scikit-image and scikit-learn
(a face, a cat, coffee, a rocket, a landscape, documents, microscope and retina images, textures),
and frames generated here (black, white, uniform, noise, gradients, a typed page, and real lesions
made too dark, too bright or too blurry). scikit-image is a development dependency
(requirements-dev.txt); nothing here is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

# scikit-image samples bundled in its wheel (the others need a download, which we never do).
SKIMAGE_SAMPLES: tuple[str, ...] = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "checkerboard",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "shepp_logan_phantom",
    "text",
)


def _to_image(array: np.ndarray) -> Image.Image:
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        array = (255 * (array - array.min()) / max(float(np.ptp(array)), 1e-9)).astype(np.uint8)
    return Image.fromarray(array)


def package_samples() -> Iterator[tuple[str, Image.Image]]:
    """(name, image) for every sample photo shipped by scikit-image and scikit-learn."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    for name in SKIMAGE_SAMPLES:
        yield f"skimage:{name}", _to_image(getattr(skimage.data, name)())
    left, right, _ = skimage.data.stereo_motorcycle()
    yield "skimage:motorcycle_left", _to_image(left)
    yield "skimage:motorcycle_right", _to_image(right)
    # Thumbnails of faces (Labeled Faces in the Wild, 25x25 grey): a few are enough.
    faces = skimage.data.lfw_subset()
    for index in range(0, len(faces), 40):
        yield f"skimage:lfw_face_{index}", _to_image(faces[index])
    sklearn_images = load_sample_images()
    for filename, array in zip(sklearn_images.filenames, sklearn_images.images, strict=True):
        yield f"sklearn:{Path(filename).stem}", _to_image(array)


def _crops(name: str, image: Image.Image) -> Iterator[tuple[str, Image.Image]]:
    """The photo itself and its centre half: a patient might frame a detail of anything."""
    yield name, image
    width, height = image.size
    if min(width, height) >= 128:
        yield f"{name}@centre", image.crop((width // 4, height // 4, width * 3 // 4, height * 3 // 4))


def generated_frames(rng: np.random.Generator, size: tuple[int, int] = (600, 450)) -> Iterator[tuple[str, Image.Image]]:
    """Frames a camera or a careless upload produces: blank, uniform, noise, gradients, a page."""
    width, height = size
    for name, colour in [
        ("black", (0, 0, 0)),
        ("white", (255, 255, 255)),
        ("grey", (128, 128, 128)),
        ("near_black", (12, 10, 9)),
        ("skin_light", (224, 180, 160)),
        ("skin_medium", (190, 130, 100)),
        ("skin_dark", (110, 70, 50)),
        ("blue", (40, 90, 200)),
        ("green", (60, 160, 70)),
    ]:
        yield f"generated:uniform_{name}", Image.new("RGB", size, colour)
    yield "generated:noise_grey", Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8))
    yield "generated:noise_colour", Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    ramp = np.linspace(0, 255, width, dtype=np.float64)[None, :].repeat(height, axis=0)
    yield "generated:gradient_grey", Image.fromarray(ramp.astype(np.uint8))
    skin = np.stack([ramp * 0.3 + 150, ramp * 0.3 + 100, ramp * 0.2 + 80], axis=-1)
    yield "generated:gradient_skin", Image.fromarray(skin.clip(0, 255).astype(np.uint8))
    page = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(page)
    for line in range(0, height - 30, 18):
        words = rng.integers(3, 12)
        draw.text((20, 15 + line), " ".join("lorem" if i % 2 else "ipsum" for i in range(words)), fill=(20, 20, 20))
    yield "generated:typed_page", page
    stripes = np.zeros((height, width, 3), dtype=np.uint8)
    stripes[:, ::40] = 255
    yield "generated:stripes", Image.fromarray(stripes)
    # Skin with no lesion: a skin tone, pores and sheen as smooth noise, a little shading.
    for name, colour in [("light", (226, 184, 160)), ("medium", (188, 128, 98)), ("dark", (112, 72, 52))]:
        noise = Image.fromarray(rng.integers(0, 256, (height // 8, width // 8), dtype=np.uint8)).resize(size)
        texture = (np.asarray(noise, dtype=np.float64) - 128) / 128 * 10 + ramp / 255 * 20 - 10
        pixels = np.array(colour, dtype=np.float64) + texture[..., None]
        yield f"generated:skin_{name}", Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    # A screen: a dark app window with coloured panels and lines of text.
    screen = Image.new("RGB", size, (30, 32, 38))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, width, 40), fill=(60, 110, 200))
    for row in range(3):
        draw.rectangle((20, 60 + row * 120, width // 2 - 10, 160 + row * 120), fill=(70, 72, 80))
        for line in range(4):
            draw.text((width // 2 + 10, 70 + row * 120 + line * 20), "Settings  Account  Photos", fill=(230, 230, 230))
    yield "generated:screen", screen


def skin_beside_lesions(paths: list[Path]) -> Iterator[tuple[str, Image.Image]]:
    """Skin with no lesion: the corners of phone photos whose lesion is in the centre (a third of each side)."""
    for path in paths:
        with Image.open(path) as source:
            image = source.convert("RGB")
        width, height = image.size
        side = min(width, height) // 3
        yield f"skin:{path.stem}:corner", image.crop((0, 0, side, side))


def spoiled_lesions(paths: list[Path]) -> Iterator[tuple[str, Image.Image]]:
    """Real lesion photos ruined the ways phones ruin them: far too dark, too bright, out of focus."""
    for path in paths:
        with Image.open(path) as source:
            image = source.convert("RGB")
        stem = path.stem
        yield f"spoiled:{stem}:dark", ImageEnhance.Brightness(image).enhance(0.12)
        yield f"spoiled:{stem}:overexposed", ImageEnhance.Brightness(image).enhance(3.5)
        # Radius relative to the frame: as blurred at 600 px as at 4000 px.
        yield f"spoiled:{stem}:blurred", image.filter(ImageFilter.GaussianBlur(max(image.size) / 40))


def non_lesion_images(
    lesion_paths: list[Path], seed: int = 0, skin_paths: list[Path] | None = None
) -> Iterator[tuple[str, Image.Image]]:
    """The whole not-assessable evaluation set: package photos (and crops), generated frames, spoiled
    lesions, and (given phone photos of lesions) the skin in their corners."""
    rng = np.random.default_rng(seed)
    for name, image in package_samples():
        yield from _crops(name, image)
    yield from generated_frames(rng)
    yield from spoiled_lesions(lesion_paths)
    yield from skin_beside_lesions(skin_paths or [])
