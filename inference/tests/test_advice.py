"""The advice band: from the model card's operating points, stricter after a measured change."""

import json
from pathlib import Path

import pytest

from inference.advice import NOTICE, advice_for, operating_bands

# A fixture card shaped like the multi-source model's: sensitivity >= 0.90 up to 0.05, specificity
# >= 0.90 from 0.3.
CARD = {
    "version": "fixture-v1",
    "operating_points": {
        "data": "fixture validation",
        "points": [
            {"threshold": 0.05, "sensitivity": 0.96, "specificity": 0.39},
            {"threshold": 0.1, "sensitivity": 0.8988, "specificity": 0.57},
            {"threshold": 0.3, "sensitivity": 0.58, "specificity": 0.9003},
            {"threshold": 0.5, "sensitivity": 0.34, "specificity": 0.96},
        ],
    },
}


def test_the_bands_start_at_the_cards_operating_points():
    bands = operating_bands(CARD)
    assert bands["medium"]["threshold"] == 0.05  # the last threshold still finding >= 90% of malignant
    assert bands["high"]["threshold"] == 0.3  # the first threshold clearing >= 90% of benign


@pytest.mark.parametrize(
    ("probability", "band"),
    [(0.0, "low"), (0.049, "low"), (0.05, "medium"), (0.29, "medium"), (0.3, "high"), (0.99, "high")],
)
def test_probability_to_band(probability, band):
    advice = advice_for(malignant_probability=probability, card=CARD)
    assert advice["band"] == band
    assert advice["notice"] == NOTICE and "not a diagnosis" in advice["notice"]
    assert advice["based_on"]["threshold"] in (0.05, 0.3)
    assert "%" in advice["text"]  # the card's sensitivity or specificity, in words


def test_a_measured_change_raises_the_band_by_one():
    assert advice_for(malignant_probability=0.01, card=CARD, changed=True)["band"] == "medium"
    assert advice_for(malignant_probability=0.1, card=CARD, changed=True)["band"] == "high"
    raised = advice_for(malignant_probability=0.9, card=CARD, changed=True)
    assert raised["band"] == "high" and raised["title"].startswith("It changed")


@pytest.mark.parametrize(
    "card",
    [
        None,
        {"version": "old"},  # the card committed before operating points existed
        {"operating_points": {"points": []}},
        {"operating_points": {"points": [{"threshold": 0.5, "sensitivity": 0.5, "specificity": 0.5}]}},
    ],
)
def test_no_operating_points_no_band(card):
    advice = advice_for(malignant_probability=0.9, card=card, changed=True)
    assert advice["band"] is None and advice["based_on"] is None
    assert "no tested levels" in advice["text"] and "See a doctor" in advice["text"]
    assert advice["notice"] == NOTICE


def test_the_worker_stores_advice_from_the_installed_card(photo, settings, tmp_path):
    from inference.services import analysis_run, current_model_version

    # The installed model with a fixture card that has operating points (the model file is the real one).
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    installed = Path(settings.MODEL_DIR)
    for item in installed.iterdir():
        (model_dir / item.name).symlink_to(item)
    (model_dir / "model_card.json").unlink()
    card = json.loads((installed / "model_card.json").read_text()) | {"operating_points": CARD["operating_points"]}
    (model_dir / "model_card.json").write_text(json.dumps(card))
    settings.MODEL_DIR = model_dir
    assert current_model_version() == card["version"]

    analysis = analysis_run(photo_id=photo.pk, model_version=card["version"])
    assert analysis.status == "done"
    # The installed card's points for the photo's type (given, else detected), as `inputs` records it.
    photo_type = analysis.inputs["photo_type"]
    assert photo_type in card["operating_points_by_photo_type"]["types"]
    expected = advice_for(malignant_probability=analysis.malignant_probability, card=card, photo_type=photo_type)
    assert analysis.advice == expected and expected["band"] in ("low", "medium", "high")
    assert analysis.advice["based_on"]["photo_type"] == photo_type
    assert analysis.measures is not None and "ok" in analysis.measures
    assert analysis.change is None  # the lesion's first photo: nothing to compare with


# The same card with points per photo type: dermoscopy's medium starts far lower than the pooled one.
TYPED = CARD | {
    "operating_points_by_photo_type": {
        "types": {
            "dermoscopy": {
                "medium": {"threshold": 0.02, "sensitivity": 0.97, "specificity": 0.26},
                "high": {"threshold": 0.3, "sensitivity": 0.4, "specificity": 0.9},
            },
            "clinical": {
                "medium": {"threshold": 0.35, "sensitivity": 0.94, "specificity": 0.78},
                "high": {"threshold": 0.55, "sensitivity": 0.82, "specificity": 0.91},
            },
        }
    }
}


@pytest.mark.parametrize(
    ("photo_type", "probability", "band"),
    [
        ("dermoscopy", 0.01, "low"),
        ("dermoscopy", 0.03, "medium"),  # low by the pooled points (medium from 0.05)
        ("dermoscopy", 0.3, "high"),
        ("clinical", 0.03, "low"),
        ("clinical", 0.4, "medium"),  # high by the pooled points (from 0.3)
        ("clinical", 0.55, "high"),
        (None, 0.03, "low"),  # no type recorded: the pooled points
        ("other", 0.4, "high"),  # a type the card has no points for: the pooled points
    ],
)
def test_the_photo_type_picks_its_own_points(photo_type, probability, band):
    advice = advice_for(malignant_probability=probability, card=TYPED, photo_type=photo_type)
    assert advice["band"] == band
    own = photo_type in ("dermoscopy", "clinical")
    assert advice["based_on"].get("photo_type") == (photo_type if own else None)


def test_the_text_quotes_the_figures_of_photos_of_that_type():
    dermoscopy = advice_for(malignant_probability=0.1, card=TYPED, photo_type="dermoscopy")
    assert "through a dermatoscope" in dermoscopy["text"] and "at least 97% of malignant" in dermoscopy["text"]
    assert "26%" in dermoscopy["text"]
    phone = advice_for(malignant_probability=0.6, card=TYPED, photo_type="clinical")
    assert "phone photos" in phone["text"] and "91%" in phone["text"] and "at least 82%" in phone["text"]
    pooled = advice_for(malignant_probability=0.1, card=CARD, photo_type="dermoscopy")
    assert "dermatoscope" not in pooled["text"] and pooled["band"] == "medium"


def test_a_lesion_answer_takes_the_photo_with_the_highest_band_across_photo_types():
    from inference.advice import lesion_advice

    class Result:
        def __init__(self, probability, photo_type):
            self.malignant_probability, self.change = probability, None
            self.inputs = {"photo_type": photo_type}

    # 0.04 through a dermatoscope is medium; 0.3 on a phone is low: the lower probability is the higher band.
    answer = lesion_advice(analyses=[Result(0.04, "dermoscopy"), Result(0.3, "clinical")], card=TYPED)
    assert answer["band"] == "medium" and answer["malignant_probability"] == 0.04
    assert answer["latest_band"] == "low"
