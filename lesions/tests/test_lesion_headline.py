"""One answer per lesion leads its page, its dashboard card and dot, the API and the physician's
report: the noisy photos of an unchanged melanoma no longer flip it, and a high band names the
most likely malignant type beside the most likely type."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, open_report, upload
from inference.advice import TITLES
from inference.models import Analysis
from lesions import services

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
# The melanoma: "Melanoma 51 %" -> "Mole" (30 % malignant) -> "Melanoma 55 %" -> "Mole" (41 %).
SERIES = [{"mel": 0.51, "nv": 0.49}, {"mel": 0.30, "nv": 0.70}, {"mel": 0.55, "nv": 0.45}, {"mel": 0.41, "nv": 0.59}]


@pytest.fixture
def melanoma(lesion):
    for i, probabilities in enumerate(SERIES):
        photo = services.photo_create(
            lesion=lesion, upload=upload(jpeg_bytes(color=(100 + i, 80, 60))), taken_at=MARCH + timedelta(days=90 * i)
        )
        finish_analysis(photo, **probabilities)
    return lesion


def _headline(page: str) -> str:
    start = page.index("data-lesion-advice")
    return page[start : page.index("</div>", start)]


def test_the_lesion_page_leads_with_one_band_and_names_the_malignant_type(client_alice, melanoma):
    page = client_alice.get(melanoma.get_absolute_url()).content.decode()
    headline = _headline(page)
    assert TITLES["high"] in headline and "Most likely malignant type: Melanoma" in headline
    assert 'class="advice lesion-advice band-high" data-band="high"' in page
    assert page.index("data-lesion-advice") < page.index('id="photo-')  # it leads the timeline
    # One photo's numbers stay as details below it.
    assert "Most likely: <a" in page and "41%" in page


def test_the_dashboard_card_and_dot_show_the_lesions_band(client_alice, melanoma):
    page = client_alice.get("/lesions/").content.decode()
    assert TITLES["high"] in _headline(page) and "Melanoma" in _headline(page)
    # The dot takes the lesion's band too (these analyses store no advice of their own).
    assert 'class="bodymap-dot band-high' in page


def test_the_api_gives_the_lesions_advice(api_alice, melanoma):
    body = api_alice.get(f"/api/lesions/{melanoma.pk}/").json()
    advice = body["advice"]
    assert advice["band"] == "high" and advice["title"] == TITLES["high"]
    assert advice["photos"] == 3 and advice["malignant_probability"] == pytest.approx(0.55)
    assert advice["latest_band"] == "high"
    assert advice["most_likely_malignant"] == {"code": "mel", "name": "Melanoma", "probability": 0.55}
    assert api_alice.get("/api/lesions/").json()["results"][0]["advice"]["band"] == "high"


def test_a_lesion_without_an_assessed_photo_has_no_advice(api_alice, client_alice, lesion):
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    analysis = photo.analyses.get()
    analysis.status = Analysis.Status.NOT_ASSESSABLE
    analysis.error = "The photo is too bright"
    analysis.save()
    assert api_alice.get(f"/api/lesions/{lesion.pk}/").json()["advice"] is None
    assert "No result yet" in _headline(client_alice.get(lesion.get_absolute_url()).content.decode())


def test_a_refused_newest_photo_leaves_the_answer_as_it_was(api_alice, melanoma):
    screenshot = services.photo_create(lesion=melanoma, upload=upload(jpeg_bytes(color=(250, 250, 250))))
    analysis = screenshot.analyses.get()
    analysis.status = Analysis.Status.NOT_ASSESSABLE
    analysis.save()
    assert api_alice.get(f"/api/lesions/{melanoma.pk}/").json()["advice"]["band"] == "high"


def test_the_physicians_report_leads_each_lesion_with_its_answer(client, share, melanoma):
    page = client.get(open_report(client, share.token)).content.decode()
    assert TITLES["high"] in _headline(page) and "Most likely malignant type: Melanoma" in _headline(page)


def test_the_pdf_leads_each_lesion_with_its_answer(client, share, melanoma):
    from sharing.tests.test_report_pdf import _pdf_text

    text = " ".join(_pdf_text(client.get(f"{open_report(client, share.token)}report.pdf")).split())
    assert f"{TITLES['high']} (high)." in text and "Most likely malignant type: Melanoma (55%)" in text
    assert text.index(TITLES["high"]) < text.index("Most likely: ")


def test_a_photos_own_advice_stays_below_as_that_photo_alone(client_alice, melanoma):
    from inference.advice import advice_for
    from inference.services import installed_model_card

    second = Analysis.objects.get(photo__lesion=melanoma, malignant_probability__range=(0.29, 0.31))
    second.advice = advice_for(malignant_probability=0.30, card=installed_model_card())
    second.save()
    page = client_alice.get(melanoma.get_absolute_url()).content.decode()
    assert second.advice["band"] == "medium"
    assert page.index("data-lesion-advice") < page.index(f"This photo alone (medium): {TITLES['medium']}")
