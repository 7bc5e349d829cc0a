"""The shared preprocessing: sizes, modes, crop, orientation, and training == serving."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from training.contract import (
    CLASSES,
    LOCALIZATIONS,
    MALIGNANT_CLASSES,
    METADATA_SIZE,
    combine_views,
    dihedral_views,
    encode_metadata,
    prepare_batch,
    prepare_image,
)
from training.data import load_images

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTDATA = REPO_ROOT / "testdata" / "ham10000"
MODEL_DIR = REPO_ROOT / "inference" / "model"

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _banded(width: int, height: int) -> Image.Image:
    """Red and blue bands at the ends of the long side, green in the centre square."""
    image = Image.new("RGB", (width, height), GREEN)
    band = (max(width, height) - min(width, height)) // 2
    if width > height:
        image.paste(RED, (0, 0, band, height))
        image.paste(BLUE, (width - band, 0, width, height))
    else:
        image.paste(RED, (0, 0, width, band))
        image.paste(BLUE, (0, height - band, width, height))
    return image


def test_classes_and_malignant_set():
    assert CLASSES == ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
    assert set(MALIGNANT_CLASSES) == {"akiec", "bcc", "mel"}


@pytest.mark.parametrize("size", [160, 96])
@pytest.mark.parametrize("dims", [(200, 150), (150, 200), (4032, 3024), (1, 1), (333, 77)])
def test_any_size_becomes_a_square_uint8_rgb_array(dims, size):
    array = prepare_image(Image.new("RGB", dims, (10, 20, 30)), size)
    assert array.shape == (size, size, 3)
    assert array.dtype == np.uint8
    assert (array == (10, 20, 30)).all()


@pytest.mark.parametrize("dims", [(200, 150), (150, 200)])
def test_four_to_three_is_centre_cropped_not_squashed(dims):
    array = prepare_image(_banded(*dims), 64).astype(int)
    # Squashing would keep red and blue at the edges; the centre crop keeps only green.
    assert (array[..., 1] > 200).all() and (array[..., 0] < 30).all() and (array[..., 2] < 30).all()


def test_rgba_transparency_becomes_white():
    image = Image.new("RGBA", (40, 30), (200, 0, 0, 0))
    image.paste((0, 0, 200, 255), (10, 0, 30, 30))
    array = prepare_image(image, 30)  # centre crop: columns 5..35 of the 40
    assert (array[:, :5] == 255).all() and (array[:, 25:] == 255).all()
    assert tuple(array[15, 15]) == (0, 0, 200)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "LA", "I;16", "I", "F", "1"])
def test_other_modes_give_rgb(mode):
    gradient = Image.linear_gradient("L").resize((64, 48))
    image = gradient.convert(mode) if mode not in ("I;16", "I", "F") else _wide(gradient, mode)
    array = prepare_image(image, 32)
    assert array.shape == (32, 32, 3) and array.dtype == np.uint8
    if mode != "1":
        # The gradient survives: a clipped 16-bit or float image would come out flat white.
        assert array[..., 0].max() - array[..., 0].min() > 100


def _wide(gradient: Image.Image, mode: str) -> Image.Image:
    values = np.asarray(gradient, dtype=np.float64) * 200.0  # 0..51,000: beyond 8 bits
    dtype = {"F": np.float32, "I": np.int32, "I;16": np.uint16}[mode]
    image = Image.fromarray(values.astype(dtype))
    assert image.mode == mode
    return image


def test_exif_orientation_is_applied():
    stored = Image.new("RGB", (200, 100), BLUE)
    stored.paste(RED, (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path_bytes = _jpeg(stored, exif)
    with Image.open(path_bytes) as image:
        array = prepare_image(image, 20).astype(int)
    # Displayed upright the red half is on top; ignoring EXIF would put it on the left.
    assert array[2, 10, 0] > 200 and array[2, 10, 2] < 60
    assert array[17, 10, 2] > 200 and array[17, 10, 0] < 60


def _jpeg(image: Image.Image, exif: Image.Exif):
    import io

    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=95)
    out.seek(0)
    return out


def test_prepare_batch_stacks_float32():
    batch = prepare_batch([Image.new("RGB", (20, 10)), Image.new("L", (7, 9))], 16)
    assert batch.shape == (2, 16, 16, 3) and batch.dtype == np.float32
    assert prepare_batch([], 16).shape == (0, 16, 16, 3)


def test_rejects_a_nonsense_size():
    with pytest.raises(ValueError):
        prepare_image(Image.new("RGB", (10, 10)), 0)


def test_training_pipeline_and_engine_feed_the_model_the_same_array(tmp_path):
    """training.data.load_images (training and evaluation) == Classifier.inputs (serving)."""
    from inference.engine import Classifier, read_card

    card = read_card(MODEL_DIR)
    paths = sorted(TESTDATA.glob("*.jpg"))
    assert len(paths) == 14
    (tmp_path / "images").mkdir()
    for path in paths:
        (tmp_path / "images" / path.name).symlink_to(path)
    training_input = load_images(tmp_path, [p.stem for p in paths], card["input_size"]).astype(np.float32)

    classifier = Classifier(model=None, card=card, model_dir=MODEL_DIR)  # no model needed to prepare inputs
    images = []
    for path in paths:  # opened the way the worker opens a stored photo
        with path.open("rb") as fh:
            image = Image.open(fh)
            image.load()
            images.append(image)
    serving_input = classifier.inputs(images)

    assert serving_input.dtype == training_input.dtype == np.float32
    np.testing.assert_array_equal(serving_input, training_input)


def test_preprocessing_does_not_import_tensorflow():
    code = (
        "import sys, json, training.contract, training.data; "
        "print(json.dumps([m for m in ('tensorflow', 'keras', 'django') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


# --- The metadata input ---------------------------------------------------------------------------


def test_metadata_encodes_age_sex_and_site():
    vector = encode_metadata(55.0, "female", "back")
    assert vector.shape == (METADATA_SIZE,) and vector.dtype == np.float32
    assert vector[0] == pytest.approx(0.55) and vector[1] == 1.0
    assert vector[2:4].tolist() == [1.0, 0.0]
    assert vector[4:].sum() == 1.0 and vector[4 + LOCALIZATIONS.index("back")] == 1.0


@pytest.mark.parametrize(
    "age, sex, site",
    [(None, None, None), (float("nan"), "unknown", "unknown"), (0.0, "", "elbow"), (130, "other", None)],
)
def test_missing_or_unusable_metadata_is_all_zeros(age, sex, site):
    assert not encode_metadata(age, sex, site).any()


def test_the_web_apps_body_sites_are_the_models_localizations():
    from lesions.models import BODY_SITES

    assert {code for code, _ in BODY_SITES} == set(LOCALIZATIONS) | {"unknown"}


# --- Test-time augmentation -------------------------------------------------------------------------


def test_dihedral_views_are_the_eight_symmetries_of_the_square():
    batch = np.random.default_rng(0).integers(0, 255, (2, 5, 5, 3), dtype=np.uint8)
    views = dihedral_views(batch, 8)
    assert views.shape == (16, 5, 5, 3)
    assert np.array_equal(views[:2], batch)  # view 0 is the photo itself
    distinct = {views[k * 2].tobytes() for k in range(8)}
    assert len(distinct) == 8
    assert np.array_equal(dihedral_views(batch, 1), batch)
    with pytest.raises(ValueError):
        dihedral_views(batch, 3)


def test_combining_views_averages_logits_so_the_temperature_keeps_its_meaning():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(8, 3, 7))  # (views, photos, classes)
    temperature = 1.7
    per_view = np.exp(logits / temperature)
    per_view /= per_view.sum(axis=-1, keepdims=True)
    combined = combine_views(per_view.reshape(24, 7), 8)
    expected = np.exp(logits.mean(axis=0) / temperature)
    expected /= expected.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(combined, expected, atol=1e-12)
    single = per_view[0]
    assert combine_views(single, 1) is single  # one view: nothing to combine
