"""The lesion's headline leads the timeline and the photo page; one photo's numbers (most likely type,
percentages, measures, heatmap, model version) sit under "Details"; the disclaimer shows once a page."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, upload
from inference.advice import TITLES
from inference.models import Analysis
from lesions import services

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
DISCLAIMER = "Not a diagnosis."


@pytest.fixture
def melanoma(lesion):
    for i, probabilities in enumerate([{"mel": 0.51, "nv": 0.49}, {"mel": 0.41, "nv": 0.59}]):
        photo = services.photo_create(
            lesion=lesion, upload=upload(jpeg_bytes(color=(100 + i, 80, 60))), taken_at=MARCH + timedelta(days=90 * i)
        )
        finish_analysis(photo, **probabilities)
    return lesion


def _outside_details(page: str) -> str:
    return re.sub(r"<details.*?</details>", "", page, flags=re.S)


def test_the_timeline_leads_with_the_headline_and_folds_each_photos_numbers(client_alice, melanoma):
    page = client_alice.get(melanoma.get_absolute_url()).content.decode()
    headline = page.index("data-lesion-advice")
    assert TITLES["high"] in page[headline:]
    assert headline < page.index(DISCLAIMER) < page.index('id="photo-') < page.index("<summary>Details</summary>")
    assert page.count("<summary>Details</summary>") == 2  # one per photo card
    outside = _outside_details(page)
    assert "Most likely: " not in outside and "41%" not in outside and "model test" not in outside.lower()
    assert "Most likely: <a" in page and "41%" in page  # under Details
    assert "Grad-CAM" not in page and "(mel)" not in outside


def test_the_photo_page_leads_with_the_lesions_headline_and_folds_its_numbers(client_alice, melanoma):
    photo = melanoma.photos.order_by("taken_at").last()
    page = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    # The same sentence as on the lesion's timeline, coloured by the lesion's band.
    assert 'class="advice lesion-advice band-high" data-band="high"' in page and TITLES["high"] in page
    details = page.index("<summary>Details</summary>")
    assert page.index("data-lesion-advice") < page.index(DISCLAIMER) < details
    assert page.index("Most likely: ") > details and page.index('class="prob-table"') > details
    assert page.index("Show where the model looked") > details if "heatmap-toggle" in page else True
    outside = _outside_details(page)
    assert "41%" not in outside and "Most likely: " not in outside  # this photo's own numbers
    assert "Grad-CAM" not in page


@pytest.mark.parametrize("where", ["lesion", "photo", "dashboard", "capture"])
def test_one_disclaimer_per_page(client_alice, melanoma, where):
    photo = melanoma.photos.first()
    url = {
        "lesion": melanoma.get_absolute_url(),
        "photo": f"/lesions/photos/{photo.pk}/",
        "dashboard": "/lesions/",
        "capture": "/lesions/capture/",
    }[where]
    page = client_alice.get(url).content.decode()
    assert page.count(DISCLAIMER) == 1
    assert "Skinsite informs; it does not diagnose" in page and "see a physician" in page


def test_a_photo_still_analysing_says_so_beside_the_headline(client_alice, melanoma):
    photo = services.photo_create(lesion=melanoma, upload=upload(jpeg_bytes(color=(1, 2, 3))))
    assert photo.analyses.get().status == Analysis.Status.PENDING
    page = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    assert TITLES["high"] in page and "Analysing…" in page and "<summary>Details</summary>" not in page


@pytest.mark.parametrize("url", ["/", "/accounts/signup/"])
def test_the_front_pages_say_it_once_too(client, url):
    page = client.get(url).content.decode()
    assert page.count(DISCLAIMER) == 1
