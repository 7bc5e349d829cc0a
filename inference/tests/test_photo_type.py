"""The photo type: detected by the served model, overridable by the user, and used in the scoring."""

import json
from pathlib import Path

import pytest
from PIL import Image

from inference.engine import DEFAULT_MODEL_DIR, Context, get_classifier
from training.contract import open_image

REPO_ROOT = Path(__file__).resolve().parents[2]
DERMOSCOPY = sorted((REPO_ROOT / "testdata" / "ham10000").glob("*.jpg"))
CARD = json.loads((DEFAULT_MODEL_DIR / "model_card.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def classifier():
    return get_classifier(DEFAULT_MODEL_DIR)


def test_the_served_model_detects_the_photo_type():
    assert CARD["photo_type"]["types"] == ["dermoscopy", "clinical"]
    assert get_classifier(DEFAULT_MODEL_DIR).detects_photo_type


def test_dermoscopy_test_images_are_detected_as_dermoscopy(classifier):
    predictions = classifier.predict_batch([open_image(p, classifier.input_size) for p in DERMOSCOPY])
    detected = [p.photo_type for p in predictions]
    assert detected.count("dermoscopy") >= len(DERMOSCOPY) - 1, detected
    assert all(p.photo_type_given is False and p.photo_type == p.photo_type_detected for p in predictions)
    assert all(0.0 <= p.clinical_probability <= 1.0 for p in predictions)


def test_a_given_photo_type_overrides_the_detection(classifier):
    image = open_image(DERMOSCOPY[0], classifier.input_size)
    detected = classifier.predict(image)
    said_clinical = classifier.predict(image, Context(photo_type="clinical"))
    said_dermoscopy = classifier.predict(image, Context(photo_type="dermoscopy"))
    assert said_clinical.photo_type == "clinical" and said_clinical.photo_type_given
    assert said_clinical.photo_type_detected == detected.photo_type_detected == "dermoscopy"
    if CARD["calibration"]["photo_type_used"]:  # clinical photos are calibrated apart
        assert said_clinical.probabilities != said_dermoscopy.probabilities
    else:  # one calibration for both (chosen on validation): the type is recorded, the numbers stay
        assert said_clinical.probabilities == pytest.approx(said_dermoscopy.probabilities, abs=1e-6)
    # Saying what was detected changes almost nothing (the detector is confident on these).
    for name, p in said_dermoscopy.probabilities.items():
        assert p == pytest.approx(detected.probabilities[name], abs=0.02)
    assert said_clinical.as_dict()["photo_type"] == "clinical"


def test_an_unknown_photo_type_is_refused():
    with pytest.raises(ValueError, match="photo_type"):
        Context(photo_type="x-ray")


def test_older_models_say_no_photo_type(classifier, monkeypatch):
    monkeypatch.setattr(classifier, "detects_photo_type", False)
    monkeypatch.setattr(classifier, "feature_checks", None)  # older models have neither
    monkeypatch.setattr(classifier, "_served", lambda inputs: _old_model_output(classifier, inputs))
    prediction = classifier.predict(Image.new("RGB", (64, 64), (200, 150, 130)))
    assert prediction.photo_type is None and prediction.clinical_probability is None


def _old_model_output(classifier, inputs):
    import numpy as np

    n = len(inputs[0] if isinstance(inputs, list) else inputs)
    return np.full((n, 7), 1 / 7)
