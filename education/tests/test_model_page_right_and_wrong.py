"""/learn/model/ opens with what the model gets right and wrong, in words, by kind of photo, from the card's
per-source figures only; a card without them opens with no such section."""

import json
import re

import pytest

from education.tests.test_model_page import COMMITTED_MODEL_DIR, MINIMAL_CARD, URL, install_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(settings) -> dict:
    settings.MODEL_DIR = COMMITTED_MODEL_DIR
    return json.loads((COMMITTED_MODEL_DIR / "model_card.json").read_text(encoding="utf-8"))


def _section(html: str) -> str:
    start = html.index('<section id="right-and-wrong">')
    return re.sub(r"\s+", " ", html[start : html.index("</section>", start)])


def _span(values: list[float]) -> str:
    low, high = round(min(values) * 100), round(max(values) * 100)
    return f"{low}%" if low == high else f"{low}% to {high}%"


def test_the_page_opens_with_right_and_wrong_above_every_table(client, card):
    html = client.get(URL).content.decode()
    opening = html.index('id="right-and-wrong"')
    assert opening < html.index('id="what"')
    assert all(opening < html.index(table) for table in ('id="test-figures"', 'id="source-figures"'))
    assert "AUC" not in _section(html) and "sensitivity" not in _section(html).lower()


def test_its_figures_are_the_cards_by_kind_of_photo(client, card):
    metrics = card["metrics"]
    dermoscopy = [f for key, f in metrics["validation_per_source"].items() if key != "pad_ufes20"]
    dermoscopy.append(metrics["ham10000_test"])
    phone = metrics["validation_per_source"]["pad_ufes20"]
    section = _section(client.get(URL).content.decode())
    derm_start, phone_start = section.index("dermatoscope"), section.index("plain phone camera")
    derm, phone_part = section[derm_start:phone_start], section[phone_start:]

    melanoma = _span([f["recall_per_class"]["mel"] for f in dermoscopy])
    assert f'its top answer is "melanoma" {melanoma} of the time' in derm
    assert f'"mole" {_span([f["recall_per_class"]["nv"] for f in dermoscopy])} of the time' in derm
    assert _span([f["sensitivity_at_90_specificity"] for f in dermoscopy]) + " of the harmful lesions" in derm
    assert f'"melanoma" {_span([phone["recall_per_class"]["mel"]])} of the time' in phone_part
    assert f"{_span([phone['sensitivity_at_90_specificity']])} of the harmful lesions" in phone_part


def test_a_card_without_figures_per_source_has_no_such_section(client, settings, tmp_path):
    install_card(settings, tmp_path, MINIMAL_CARD)
    assert 'id="right-and-wrong"' not in client.get(URL).content.decode()
