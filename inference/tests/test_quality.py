"""The not-assessable checks: real lesions pass, blank, dark, blurry and non-lesion photos do not."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from conftest import lesion_image_paths
from evaluation.nonlesion_samples import generated_frames, package_samples
from inference import quality


def _open(path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy()


@pytest.fixture(scope="module")
def lesions() -> list[Image.Image]:
    return [_open(path) for path in lesion_image_paths()]


def test_the_committed_lesions_are_assessable(lesions):
    assert len(lesions) == 14
    for image in lesions:
        assessment = quality.assess(image)
        assert assessment.ok, assessment
        assert assessment.reason == ""


def test_a_lesion_photographed_by_a_phone_in_portrait_is_assessable(lesions):
    # A 12-megapixel portrait frame with the lesion in the middle: the checks see the same centre square.
    portrait = Image.new("RGB", (3000, 4000), (200, 150, 130))
    portrait.paste(lesions[0].resize((3000, 2250)), (0, 875))
    assert quality.assess(portrait).ok


@pytest.mark.parametrize(
    ("colour", "reason"),
    [
        ((0, 0, 0), quality.TOO_DARK),
        ((255, 255, 255), quality.TOO_BRIGHT),
        ((128, 128, 128), quality.BLANK),
        ((200, 150, 130), quality.BLANK),  # skin-coloured, but nothing on it
    ],
)
def test_uniform_frames_are_refused_with_the_reason(colour, reason):
    assessment = quality.assess(Image.new("RGB", (640, 480), colour))
    assert not assessment.ok
    assert assessment.reason == reason


def test_a_dark_photo_of_a_lesion_is_too_dark(lesions):
    assessment = quality.assess(ImageEnhance.Brightness(lesions[0]).enhance(0.12))
    assert (assessment.ok, assessment.reason) == (False, quality.TOO_DARK)


def test_an_overexposed_photo_of_a_lesion_is_too_bright(lesions):
    assessment = quality.assess(ImageEnhance.Brightness(lesions[1]).enhance(3.5))
    assert (assessment.ok, assessment.reason) == (False, quality.TOO_BRIGHT)


def test_an_out_of_focus_photo_of_a_lesion_is_too_blurry(lesions):
    for image in lesions:
        blurred = image.filter(ImageFilter.GaussianBlur(max(image.size) / 40))
        assessment = quality.assess(blurred)
        assert (assessment.ok, assessment.reason) == (False, quality.BLURRY)


def test_a_black_and_white_photo_is_refused(lesions):
    assessment = quality.assess(lesions[2].convert("L"))
    assert (assessment.ok, assessment.reason) == (False, quality.NOT_COLOUR)


def test_generated_frames_are_all_refused():
    for name, image in generated_frames(np.random.default_rng(0)):
        assert not quality.assess(image).ok, name


def test_the_sample_photos_shipped_with_scikit_image_and_scikit_learn_are_refused():
    samples = dict(package_samples())
    assert {"skimage:astronaut", "skimage:chelsea", "skimage:coffee", "skimage:rocket", "skimage:page"} <= set(samples)
    refused = {name: quality.assess(image) for name, image in samples.items()}
    accepted = sorted(name for name, assessment in refused.items() if assessment.ok)
    # Since the statistics cover phone photos and other clinics' dermoscopy (issue 13: at most 5 %
    # of real lesions refused in every set), four sample photos pass: the ginger cat's fur, a
    # stained tissue slide and the two red motorcycle frames (reports/not_assessable.md). No more.
    known = ["skimage:chelsea", "skimage:immunohistochemistry", "skimage:motorcycle_left", "skimage:motorcycle_right"]
    assert set(accepted) <= set(known), accepted
    # A face, a landscape and a document each get a reason a patient can act on.
    assert refused["skimage:astronaut"].reason in (quality.NOT_SKIN, quality.NOT_LESION)
    assert refused["sklearn:china"].reason in (quality.NOT_SKIN, quality.NOT_LESION)
    assert refused["skimage:page"].reason == quality.NOT_COLOUR


def test_statistics_fitted_on_other_features_are_refused(tmp_path):
    data = json.loads(quality.STATS_FILE.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    with pytest.raises(ValueError, match="other features"):
        quality.LesionStatistics.from_json(data)


def test_the_web_process_can_use_the_checks_without_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys; from PIL import Image; from inference import quality; "
        "quality.assess(Image.new('RGB', (64, 64))); print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


PHONE_PHOTO = Path(__file__).resolve().parents[2] / "testdata" / "pad_ufes20" / "PAT_1161_578_233.jpg"


def _corners(image: Image.Image) -> list[Image.Image]:
    """The four corners of a photo, a third of its shorter side each: skin beside the mole."""
    width, height = image.size
    side = min(width, height) // 3
    return [image.crop((x, y, x + side, y + side)) for x in (0, width - side) for y in (0, height - side)]


def test_a_phone_photo_of_a_mole_is_assessable_and_its_plain_skin_is_not():
    photo = _open(PHONE_PHOTO)
    whole = quality.assess(photo)
    assert whole.ok, whole
    assert whole.scores["lesion_contrast"] > quality.LESION_CONTRAST_BELOW
    for corner in _corners(photo):
        assessment = quality.assess(corner)
        assert not assessment.ok
        assert assessment.scores["lesion_contrast"] < quality.LESION_CONTRAST_BELOW
    # The corners that pass every other check are refused for showing no lesion, with a reason
    # that tells the patient what to do.
    reasons = {quality.assess(corner).reason for corner in _corners(photo)}
    assert quality.NO_LESION_VISIBLE in reasons
    assert "centre the mole" in quality.NO_LESION_VISIBLE


def test_lesion_contrast_ignores_hairs_but_not_a_small_mole(lesions):
    skin = Image.new("RGB", (400, 400), (205, 160, 140))
    hairy = skin.copy()
    draw = ImageDraw.Draw(hairy)
    for x in range(20, 400, 37):  # dark hairs, 2 px wide, across the whole frame
        draw.line((x, 0, x + 60, 400), fill=(40, 30, 25), width=2)
    assert quality.lesion_contrast(hairy) < quality.LESION_CONTRAST_BELOW
    mole = skin.copy()
    ImageDraw.Draw(mole).ellipse((185, 185, 215, 215), fill=(110, 70, 50))  # 30 px: under 1 % of the frame
    assert quality.lesion_contrast(mole) > quality.LESION_CONTRAST_BELOW
    # Every committed dermoscopy lesion stands out (the faintest, a benign keratosis, at about 17).
    assert min(quality.lesion_contrast(image) for image in lesions) > quality.LESION_CONTRAST_BELOW


def test_the_fast_hair_closing_gives_pillows_pixels():
    """`lesion_contrast` closes hairs with numpy passes; the limit was chosen with Pillow's filters."""
    pixels = np.random.default_rng(3).integers(0, 256, (40, 57, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    for size in (3, 5):
        expected = image.filter(ImageFilter.MaxFilter(size)).filter(ImageFilter.MinFilter(size))
        got = quality._rank_filter(quality._rank_filter(pixels, size, np.maximum), size, np.minimum)
        np.testing.assert_array_equal(got, np.asarray(expected))
