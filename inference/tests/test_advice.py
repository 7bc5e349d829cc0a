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
    expected = advice_for(malignant_probability=analysis.malignant_probability, card=CARD)
    assert analysis.advice["band"] == expected["band"] in ("low", "medium", "high")
    assert analysis.measures is not None and "ok" in analysis.measures
    assert analysis.change is None  # the lesion's first photo: nothing to compare with
