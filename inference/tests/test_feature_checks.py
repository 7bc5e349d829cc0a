"""The served model's feature checks: photos that pass the pixel checks but are no lesion are refused.

`inference.quality` judges pixels (exposure, focus, colour, lesion contrast); the model's two extra
columns (`training.feature_checks`) judge what the CNN sees: how far the photo is from the lesion
photos of every source, and whether it shows skin with no lesion. These tests run the whole served
decision (`Classifier.assessment`) on the committed images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import lesion_image_paths
from evaluation.nonlesion_samples import generated_frames, package_samples
from inference import quality
from inference.engine import DEFAULT_MODEL_DIR, Classifier, get_classifier

PHONE = Path(__file__).resolve().parents[2] / "testdata" / "pad_ufes20"


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy()


def _corners(image: Image.Image) -> list[Image.Image]:
    width, height = image.size
    side = min(width, height) // 3
    return [image.crop((x, y, x + side, y + side)) for x in (0, width - side) for y in (0, height - side)]


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return get_classifier(DEFAULT_MODEL_DIR)


def _decisions(classifier: Classifier, images: list[Image.Image]) -> list[quality.Assessment]:
    predictions = classifier.predict_batch(images)
    return [classifier.assessment(image, p.refusal) for image, p in zip(images, predictions, strict=True)]


def test_the_served_model_has_feature_checks_with_limits_from_its_card(classifier):
    checks = classifier.card["feature_checks"]
    assert classifier.feature_checks == checks
    assert checks["columns"] == {"feature_distance": 8, "no_lesion_probability": 9}
    assert checks["distance_above"] > 0 and 0 < checks["no_lesion_above"] < 1
    prediction = classifier.predict(_open(lesion_image_paths()[0]))
    assert prediction.feature_distance is not None and prediction.no_lesion_probability is not None
    assert prediction.as_dict()["refusal"] == prediction.refusal == ""


def test_every_committed_lesion_photo_is_assessable(classifier):
    """14 HAM10000 dermoscopy photos and two phone photos (one from a validation patient, a carcinoma)."""
    paths = [*lesion_image_paths(), *sorted(PHONE.glob("*.jpg"))]
    assert len(paths) == 16
    for path, decision in zip(paths, _decisions(classifier, [_open(p) for p in paths]), strict=True):
        assert decision.ok, (path.name, decision)


def test_plain_skin_beside_a_phone_photographed_lesion_is_refused(classifier):
    """The corners of the validation patient's photo: skin, the odd hair or fold, no lesion."""
    corners = _corners(_open(PHONE / "PAT_55_84_506.jpg"))
    decisions = _decisions(classifier, corners)
    assert not any(d.ok for d in decisions), decisions
    assert {d.reason for d in decisions} <= {quality.NO_LESION_VISIBLE, quality.NOT_LESION, quality.BLURRY}


def test_sample_photos_that_pass_the_pixel_checks_are_refused_by_the_model(classifier):
    """The ginger cat and the red motorbike pass exposure, focus, colour and contrast; the CNN's features
    put them far from every lesion photo."""
    samples = dict(package_samples())
    names = ["skimage:chelsea", "skimage:motorcycle_left", "skimage:motorcycle_right"]
    images = [samples[name] for name in names]
    for image in images:
        assert quality.assess(image, distance_check=False).ok
    for name, decision in zip(names, _decisions(classifier, images), strict=True):
        assert (name, decision.reason) == (name, quality.NOT_LESION)


def test_the_not_assessable_rate_on_the_committed_non_lesion_images(classifier):
    """The sample photos shipped with scikit-image and scikit-learn and the generated frames, whole: the
    served decision refuses 47 of these 51 (reports/not_assessable.md has the full set, crops
    and spoiled lesions too). Four pass today, all listed in that report: a stained tissue slide and a
    retina photo (pink-red textures close to dermoscopy), the scikit-image logo and the flower photo
    (both just inside the distance limit). No more."""
    items = [*package_samples(), *generated_frames(np.random.default_rng(0))]
    decisions = _decisions(classifier, [image for _, image in items])
    accepted = {name for (name, _), d in zip(items, decisions, strict=True) if d.ok}
    assert len(items) >= 45
    assert 1 - len(accepted) / len(items) >= 0.92
    known = {"skimage:immunohistochemistry", "skimage:retina", "skimage:logo", "sklearn:flower"}
    assert accepted <= known, accepted - known


def test_a_model_without_feature_checks_refuses_nothing_itself(classifier, monkeypatch):
    monkeypatch.setattr(classifier, "feature_checks", None)
    assert classifier.refusal(1e9, 1.0) == ""
    image = dict(package_samples())["skimage:chelsea"]
    # Without the model's checks, the statistics' distance (inference.quality) judges the photo.
    assert classifier.assessment(image) == quality.assess(image)


def test_the_limits_are_set_again_from_served_values_and_written_into_the_card(tmp_path):
    """`python -m training.feature_checks --limits-only` on a copy of the served model, with the committed
    photos standing in for each source's validation part and for the malignant training photos."""
    import csv
    import json
    import shutil

    from conftest import TESTDATA
    from training.feature_checks import LIMITS_SET_ON, relimit, served_values
    from training.sources import SOURCES, Sample

    with (TESTDATA / "metadata.csv").open(newline="", encoding="utf-8") as fh:
        rows = [(TESTDATA / f"{row['image_id']}.jpg", row["dx"]) for row in csv.DictReader(fh)]
    val = [Sample(SOURCES[i % len(SOURCES)], path, dx, path.stem, "val") for i, (path, dx) in enumerate(rows)]
    train = [Sample("ham10000", path, dx, path.stem, "train") for path, dx in rows if dx in ("mel", "bcc", "akiec")]
    model_dir = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, model_dir)

    section = relimit(model_dir, val + train)

    classifier = Classifier.load(model_dir)
    highest = served_values(classifier, [_open(s.path) for s in train])
    expected_distance = max(
        float(highest[0].max()),
        *(
            float(np.percentile(served_values(classifier, [_open(s.path) for s in val if s.source == source])[0], 99.5))
            for source in SOURCES
        ),
    )
    assert section["distance_above"] == pytest.approx(expected_distance, abs=1e-3)
    assert section["highest_of_malignant_training_photos"]["photos"] == len(train)
    assert section["no_lesion_above"] >= section["highest_of_malignant_training_photos"]["no_lesion"]
    assert section["limits_set_on"] == LIMITS_SET_ON
    assert json.loads((model_dir / "model_card.json").read_text(encoding="utf-8"))["feature_checks"] == section


def test_the_quality_report_judges_as_the_worker_does_and_can_try_other_limits(classifier):
    """`evaluation.not_assessable.Judge` gives the served decision; with other feature-check limits (what the
    report's "percentile limits alone" row uses) the same measured values are judged again."""
    from evaluation.not_assessable import Judge
    from inference.quality import features, lesion_contrast

    images = [*_corners(_open(PHONE / "PAT_55_84_506.jpg")), _open(PHONE / "PAT_55_84_506.jpg")]
    judge = Judge()
    checked = judge.check_values(images)
    served = _decisions(classifier, images)
    measured = [(features(image), lesion_contrast(image)) for image in images]
    for (values, contrast), c, expected in zip(measured, checked, served, strict=True):
        assert judge.decide(values, contrast, c).reason == expected.reason
    # Limits no photo can exceed: the model refuses nothing, only the pixel checks may.
    lenient = judge.with_limits({"distance_above": float("inf"), "no_lesion_above": 1.0})
    assert lenient.classifier is judge.classifier
    flipped = 0
    for (values, contrast), c, expected in zip(measured, checked, served, strict=True):
        decision = lenient.decide(values, contrast, c)
        assert decision.ok == quality.assess_features(values, contrast=contrast, distance_check=False).ok
        flipped += decision.ok and not expected.ok
    assert flipped >= 1  # plain skin the model's own limits refuse
    assert judge.feature_check_limits() == {
        "distance_above": classifier.feature_checks["distance_above"],
        "no_lesion_above": classifier.feature_checks["no_lesion_above"],
    }
