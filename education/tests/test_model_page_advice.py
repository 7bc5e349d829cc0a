"""/learn/model/ explains the advice bands from the card's operating points, and the measures."""

import json

import pytest

from education.tests.test_model_page import MINIMAL_CARD, URL
from inference.tests.test_advice import CARD
from measurement.thresholds import load_thresholds

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
    # The committed study's figures (measurement/thresholds.json), as measured.
    thresholds = load_thresholds()
    rate = 100 * thresholds.provenance["false_alarm_rate_validation"]
    assert "Border irregularity" in page and f"{rate:.1f}% of the held-out pairs" in page
    assert f"{thresholds.area_ratio:.1f} times larger or smaller" in page


def test_the_bands_per_kind_of_photo_and_source_come_from_the_served_card(client, settings, tmp_path):
    from training.contract import read_card

    served = read_card(settings.BASE_DIR / "inference" / "model")
    _install(
        settings,
        tmp_path,
        MINIMAL_CARD | {k: served[k] for k in ("operating_points", "operating_points_by_photo_type")},
    )
    page = client.get(URL).content.decode()
    types = served["operating_points_by_photo_type"]["types"]
    assert 'id="bands-dermoscopy"' in page and 'id="bands-phone-camera"' in page
    assert page.count('class="table-scroll"') >= 3  # each table in its own scroll box
    dermoscopy = types["dermoscopy"]
    assert f"Medium from {100 * dermoscopy['medium']['threshold']:.1f}%" in page
    for figures in dermoscopy["medium"]["sources"].values():
        assert f"<td>{100 * figures['sensitivity']:.1f}%</td><td>{100 * figures['specificity']:.1f}%</td>" in page
    assert "PAD-UFES-20 (Brazil)" in page.split('id="bands-phone-camera"')[1]


def test_no_bands_per_kind_of_photo_without_them_in_the_card(client, settings, tmp_path):
    _install(settings, tmp_path, MINIMAL_CARD | {"operating_points": CARD["operating_points"]})
    page = client.get(URL).content.decode()
    assert 'id="bands-by-photo-type"' not in page and "5% or more" in page
