"""The model contract: what the served model reports, what it reads, and the card that says so.

Written once, here, and read by training, serving, the pages and the evaluation scripts alike:

- the seven HAM10000 classes (codes, labels, which are malignant) and the body-site words;
- how a photo becomes the classifier's input (`prepare_image` and what goes with it);
- the model card (`ModelCard`): its one reader `read_card`, which checks it, and its writer.

Only numpy and Pillow are imported, never Django or TensorFlow, so the web process, the worker
and a training box can all import it cheaply.

Preprocessing choice: **centre square crop, then resize**. HAM10000 images are 4:3 dermoscopy
frames with the lesion near the centre; cropping the short side's square keeps the lesion
undistorted, and it behaves the same for any other aspect ratio (a portrait phone photo, a square
crop), where squashing would stretch each photo differently. `prepare_image` returns uint8 RGB
pixels 0..255; the backbone's own scaling is a layer *inside* the saved model, so the exported
model is self-contained and callers never scale by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO, NotRequired, Required, TypedDict

import numpy as np
from PIL import Image, ImageOps

# --- Classes and body sites -------------------------------------------------------------------
CLASS_LABELS: dict[str, str] = {
    "akiec": "Actinic keratosis / intraepithelial carcinoma",
    "bcc": "Basal cell carcinoma",
    "bkl": "Benign keratosis",
    "df": "Dermatofibroma",
    "mel": "Melanoma",
    "nv": "Melanocytic nevus (mole)",
    "vasc": "Vascular lesion",
}
CLASSES: tuple[str, ...] = tuple(CLASS_LABELS)
MALIGNANT_CLASSES: tuple[str, ...] = ("akiec", "bcc", "mel")

# The HAM10000 `localization` vocabulary, with the words a patient reads. The app stores these
# codes (lesions.models.Lesion.body_site), the body map draws them (lesions.bodymap) and
# the model encodes them (LOCALIZATIONS below: every code but "unknown", which
# is encoded as no site), so a lesion's site means the same everywhere.
UNKNOWN_SITE = "unknown"
BODY_SITE_LABELS: dict[str, str] = {
    "abdomen": "Abdomen",
    "acral": "Acral (palms, soles, nails)",
    "back": "Back",
    "chest": "Chest",
    "ear": "Ear",
    "face": "Face",
    "foot": "Foot",
    "genital": "Genital",
    "hand": "Hand",
    "lower extremity": "Leg (lower extremity)",
    "neck": "Neck",
    "scalp": "Scalp",
    "trunk": "Trunk",
    "upper extremity": "Arm (upper extremity)",
    UNKNOWN_SITE: "Other / unknown",
}


# --- The model card ---------------------------------------------------------------------------
CARD_FILE = "model_card.json"  # in an exported model's folder, beside model.keras and model.tflite


class ModelCard(TypedDict, total=False):
    """An exported model's `model_card.json`: the four keys every served model needs, then the rest.

    Nested sections stay plain mappings: each is written by the step that produces it (training,
    calibration, feature checks, evaluation) and read by the page or runtime that shows it.
    """

    version: Required[str]
    classes: Required[list[str]]
    malignant_classes: Required[list[str]]
    input_size: Required[int]
    name: str
    created: str
    class_names: dict[str, str]
    malignant_probability: str
    input: dict[str, Any]
    metadata_input: dict[str, Any] | None
    photo_type: dict[str, Any]
    preprocessing: dict[str, Any]
    output: str
    backbone: dict[str, Any]
    training: dict[str, Any]
    calibration: dict[str, Any]
    metrics: dict[str, Any]
    operating_points: dict[str, Any]
    # The advice bands' starts per photo type, chosen to hold on each validation source of that type
    # (`training.advice_points`): {"types": {"dermoscopy": {"medium": point, "high": point, "sources": ...}}}.
    operating_points_by_photo_type: dict[str, Any]
    test_time_augmentation: int
    serving: dict[str, Any]
    model_file: dict[str, Any]
    intended_use: str
    licence: str
    data_attributions: dict[str, Any]
    feature_checks: dict[str, Any]
    not_assessable: dict[str, Any]
    # Written by the HAM10000-only recipe (`training.export`): its temperature (None with the metadata fusion),
    # the re-export command and a note on in-sample validation figures.
    temperature: float | None
    exported_by: dict[str, Any]
    metrics_note: str
    limitations: NotRequired[Any]


class CardError(ValueError):
    """A model card that is missing, unreadable, or describes a model that cannot be served."""


REQUIRED_CARD_KEYS = ("version", "classes", "malignant_classes", "input_size")


def check_card(card: object, where: str = "model card") -> ModelCard:
    """`card` as a `ModelCard` when it describes a servable model; raises CardError with the reason."""
    if not isinstance(card, dict):
        raise CardError(f"{where} is not a JSON object")
    missing = [key for key in REQUIRED_CARD_KEYS if key not in card]
    if missing:
        raise CardError(f"{where} lacks {', '.join(missing)}")
    # The web app stores one column per class; a model with other classes cannot be served.
    if tuple(card["classes"]) != CLASSES:
        raise CardError(f"model classes {card['classes']} differ from {list(CLASSES)}")
    if tuple(card["malignant_classes"]) != MALIGNANT_CLASSES:
        raise CardError(f"model malignant classes {card['malignant_classes']} differ from {list(MALIGNANT_CLASSES)}")
    if not isinstance(card["input_size"], int) or isinstance(card["input_size"], bool) or card["input_size"] <= 0:
        raise CardError(f"{where} has a bad input_size {card['input_size']!r}")
    if not isinstance(card["version"], str) or not card["version"].strip():
        raise CardError(f"{where} has no version")
    if "operating_points_by_photo_type" in card:
        _check_points_by_photo_type(card["operating_points_by_photo_type"], where)
    return card  # type: ignore[return-value]  # checked above


ADVICE_PHOTO_TYPES = ("dermoscopy", "clinical")


def _check_points_by_photo_type(block: object, where: str) -> None:
    """Each photo type's "medium" and "high" band starts: thresholds in [0, 1], medium not above high."""
    types = block.get("types") if isinstance(block, dict) else None
    if not isinstance(types, dict) or not set(types) <= set(ADVICE_PHOTO_TYPES):
        raise CardError(f"{where}: operating_points_by_photo_type needs types among {ADVICE_PHOTO_TYPES}")
    for name, bands in types.items():
        try:
            medium, high = (float(bands[band]["threshold"]) for band in ("medium", "high"))
        except (KeyError, TypeError, ValueError):
            raise CardError(f"{where}: {name} operating points lack a medium or high threshold") from None
        if not 0.0 <= medium <= high <= 1.0:
            raise CardError(f"{where}: {name} thresholds must satisfy 0 <= medium <= high <= 1")


def read_card(model_dir: Path | str) -> ModelCard:
    """The checked card of the exported model in `model_dir`: the one place a card file is opened."""
    path = Path(model_dir) / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CardError(f"no model card at {path}") from None
    except (OSError, ValueError) as exc:
        raise CardError(f"unreadable model card {path}: {exc}") from None
    return check_card(card, str(path))


def write_card(path: Path | str, card: ModelCard | dict[str, Any]) -> None:
    """Write a model card as every step that changes one does: indented, UTF-8, one trailing newline.

    `path` is the card file itself or the model folder that holds it.
    """
    target = Path(path)
    if target.is_dir():
        target = target / CARD_FILE
    target.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def metadata_used(card: ModelCard | dict[str, Any]) -> bool:
    """Whether the model's answer depends on age, sex and body site.

    A card may accept the metadata input and say it is used by nothing (its weights are 0); cards
    from before multi-source training had no `used_by`, and their metadata input was used.
    """
    metadata = card.get("metadata_input")
    if not isinstance(metadata, dict) or not metadata:
        return False
    used_by = metadata.get("used_by")
    return not (isinstance(used_by, str) and used_by.strip().lower().startswith("nothing"))


# --- Preprocessing ----------------------------------------------------------------------------
DEFAULT_IMAGE_SIZE = 192  # the HAM10000-only recipe's input; a served model's is its card's `input_size`
# Bump when `prepare_image` changes: training caches are keyed on it, and the model card records it.
PREPROCESSING_VERSION = 1
PREPROCESSING_DESCRIPTION = (
    "EXIF orientation applied; converted to RGB (transparency composited on white, 16-bit and "
    "float greyscale rescaled to 0..255); centre square crop of the shorter side; bilinear resize "
    "to {size}x{size}; uint8 RGB 0..255 fed as float32. The model scales to -1..1 itself: {scaling}."
)
MOBILENET_SCALING = "x / 127.5 - 1, the MobileNetV2 convention"


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB without garbling it."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # convert("L") clips these instead of scaling them, which turns most photos white.
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
        return Image.fromarray(scaled.round().astype(np.uint8)).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels carry arbitrary colour; put them on white like a viewer would.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def prepare_image(image: Image.Image, size: int = DEFAULT_IMAGE_SIZE) -> np.ndarray:
    """Turn a Pillow image of any mode and size into a `(size, size, 3)` uint8 RGB array.

    This is the model's input before its internal scaling; stack several with `np.stack` and
    cast to float32 to make a batch.
    """
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    array = np.asarray(centre_square(image, size), dtype=np.uint8)
    return array.reshape(size, size, 3)


def centre_square(image: Image.Image, size: int) -> Image.Image:
    """The upright RGB centre square of the shorter side, resized to `size` x `size`: what the model sees."""
    image = ImageOps.exif_transpose(image)  # phones store rotation in EXIF, not in the pixels
    image = to_rgb(image)
    width, height = image.size
    if width == 0 or height == 0:
        raise ValueError("empty image")
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    # reducing_gap keeps large phone photos fast (box-reduce first) without visible aliasing.
    return square.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)


def open_image(path: str | Path | BinaryIO, size: int = DEFAULT_IMAGE_SIZE) -> Image.Image:
    """Open and decode an image file for a model of input `size`, JPEGs at a reduced scale.

    A 12-megapixel phone JPEG decoded in full takes ~150 ms and 36 MB; Pillow's `draft` asks the
    JPEG decoder for the smallest 1/2, 1/4 or 1/8 scale whose sides stay at least `size`
    (`WORK_MIN` for the quality checks' sake), so the centre square is still downsized, never
    upsampled. Training caches, the CLI and the worker all decode through here. The file is read
    completely (a truncated file fails here) and closed.
    """
    with Image.open(path) as image:
        if image.format == "JPEG":
            side = max(size, WORK_MIN)
            image.draft("RGB", (side, side))
        image.load()
        return image.copy()  # keeps `info`, so EXIF orientation is still applied later


WORK_MIN = 256  # the not-assessable check looks at a 256 px square (inference.quality.WORK_SIZE)


def prepare_batch(images: list[Image.Image], size: int = DEFAULT_IMAGE_SIZE) -> np.ndarray:
    """Stack prepared images into a float32 `(n, size, size, 3)` batch of 0..255 values."""
    if not images:
        return np.zeros((0, size, size, 3), dtype=np.float32)
    return np.stack([prepare_image(image, size) for image in images]).astype(np.float32)


# The HAM10000 `localization` vocabulary (BODY_SITE_LABELS above) without "unknown",
# which is encoded as no site.
LOCALIZATIONS: tuple[str, ...] = tuple(site for site in BODY_SITE_LABELS if site != UNKNOWN_SITE)
SEXES: tuple[str, ...] = ("female", "male")
METADATA_SIZE = 2 + len(SEXES) + len(LOCALIZATIONS)
METADATA_DESCRIPTION = (
    "float32 vector of 18: [age / 100, 1 if age known], one-hot sex (female, male; all 0 if unknown), "
    "one-hot body site over the 14 HAM10000 localizations (all 0 if unknown)"
)


def encode_metadata(age: float | None = None, sex: str | None = None, site: str | None = None) -> np.ndarray:
    """The model's second input: age, sex and body site, any of which may be missing.

    Missing values are all zeros (with an "age known" flag), which training also shows the
    model by blanking each field at random, so a patient who gives no age still gets a result.
    """
    vector = np.zeros(METADATA_SIZE, dtype=np.float32)
    if age is not None and not (isinstance(age, float) and np.isnan(age)) and 0 < age < 120:
        vector[0], vector[1] = float(age) / 100.0, 1.0
    if sex in SEXES:
        vector[2 + SEXES.index(sex)] = 1.0
    if site in LOCALIZATIONS:
        vector[2 + len(SEXES) + LOCALIZATIONS.index(site)] = 1.0
    return vector


# Test-time augmentation: dermoscopy has no "up", so the model sees several dihedral views of the
# photo (rotations, mirrored) and their logits are averaged; the calibration is fitted on the
# averaged logits, so the averaged probabilities stay calibrated. 4 views scored as well as 8 out
# of fold on validation for v5 and almost as well for cc-v6, at half the cost (training/README.md).
TTA_VIEWS = 4


def dihedral_views(batch: np.ndarray, views: int = TTA_VIEWS) -> np.ndarray:
    """`(views * n, s, s, c)`: the first `views` dihedral transforms of every image, view-major."""
    if views not in (1, 2, 4, 8):
        raise ValueError(f"views must be 1, 2, 4 or 8, got {views}")
    out = []
    for k in range(views):
        view = np.rot90(batch, k // 2, axes=(1, 2))
        out.append(view[:, :, ::-1] if k % 2 else view)
    return np.ascontiguousarray(np.concatenate(out))


def view_inputs(images: np.ndarray, meta: np.ndarray | None, views: int) -> np.ndarray | list[np.ndarray]:
    """The model's inputs for every view of `images`: float32 pixels, plus the metadata repeated per view."""
    batch = dihedral_views(images, views).astype(np.float32)
    return batch if meta is None else [batch, np.tile(meta, (views, 1))]


def combine_views(probabilities: np.ndarray, views: int) -> np.ndarray:
    """Average `(views * n, k)` probabilities from `dihedral_views` in logit space: `(n, k)`.

    The mean of log-probabilities is the mean logit minus a per-view constant, so the softmax of
    it equals softmax(mean logits / T): the temperature keeps its meaning.
    """
    if views == 1:
        return probabilities
    n = len(probabilities) // views
    log_p = np.log(np.clip(probabilities.astype(np.float64), 1e-30, None)).reshape(views, n, -1).mean(axis=0)
    log_p -= log_p.max(axis=1, keepdims=True)
    combined = np.exp(log_p)
    return combined / combined.sum(axis=1, keepdims=True)


def describe(size: int, scaling: str = MOBILENET_SCALING) -> str:
    """The preprocessing description recorded in the model card (`scaling`: the backbone's own, inside the model)."""
    return PREPROCESSING_DESCRIPTION.format(size=size, scaling=scaling)
