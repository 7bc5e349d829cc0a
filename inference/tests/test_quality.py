"""The not-assessable checks: real lesions pass, blank, dark, blurry and non-lesion photos do not."""

import json

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from conftest import lesion_image_paths
from inference import quality
from inference.nonlesion_samples import generated_frames, package_samples


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
