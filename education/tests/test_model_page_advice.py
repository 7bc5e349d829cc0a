"""/learn/model/ explains the advice bands from the card's operating points, and the measures."""

import json

import pytest

from education.tests.test_model_page import MINIMAL_CARD, URL
from inference.tests.test_advice import CARD

pytestmark = pytest.mark.django_db


def _install(settings, tmp_path, card: dict) -> None:
    (tmp_path / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    settings.MODEL_DIR = tmp_path


def test_the_bands_and_their_sensitivity_and_specificity(client, settings, tmp_path):
    _install(settings, tmp_path, MINIMAL_CARD | {"operating_points": CARD["operating_points"]})
    page = client.get(URL).content.decode()
    assert "30% or more" in page and "Show it to a doctor within a few weeks" in page
    assert "5% or more" in page and "below 5%" in page
    assert "90% of benign lesions stay below" in page  # specificity 0.9003 at 0.3
    assert "finds 96% of malignant lesions" in page  # sensitivity 0.96 at 0.05
    assert "fixture validation" in page


def test_no_operating_points_no_band(client, settings, tmp_path):
    _install(settings, tmp_path, MINIMAL_CARD)
    page = client.get(URL).content.decode()
    assert "no risk band" in page and "Show it to a doctor within a few weeks" not in page


def test_the_measures_and_change_thresholds_are_explained(client, settings, tmp_path):
    _install(settings, tmp_path, MINIMAL_CARD)
    page = client.get(URL).content.decode()
    assert 'id="measures"' in page
    assert "Border irregularity" in page and "4.8% of the held-out pairs" in page
    assert "5.0 times larger or smaller" in page  # area_ratio 4.9744
