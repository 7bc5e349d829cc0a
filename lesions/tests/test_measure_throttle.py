"""Measuring a photo again is queued for the worker (outline, reference search, later comparisons, seconds
of CPU each): one patient gets API_THROTTLE_MEASURE such requests, on the API and the web forms together,
so no one fills the worker's queue. Beyond it: 429 with Retry-After, and nothing is measured or queued;
reading goes on."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from conftest import upload
from lesions import services
from lesions.models import Photo
from lesions.tests.test_size_pages import sized

pytestmark = pytest.mark.django_db

POINTS = {"x1": "20", "y1": "50", "x2": "70", "y2": "50"}


@pytest.fixture
def unscaled(lesion, real_image_bytes, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "measure", "2/hour")
    photo = services.photo_create(lesion=lesion, upload=upload(real_image_bytes))
    sized(photo, long_mm=None, reason="no_reference")
    return photo


def _api_body(photo, distance_mm: float) -> dict:
    return {"points": [[0.1, 0.5], [0.6, 0.5]], "distance_mm": distance_mm}


def test_the_api_and_the_web_forms_share_one_measuring_rate(api_alice, client_alice, unscaled):
    url = f"/api/photos/{unscaled.pk}/scale/"
    assert api_alice.post(url, _api_body(unscaled, 10.0), format="json").status_code == 200
    web = client_alice.post(f"/lesions/photos/{unscaled.pk}/scale/", {**POINTS, "length": "other", "distance_mm": "12"})
    assert web.status_code == 302  # the second of two

    refused = api_alice.post(url, _api_body(unscaled, 20.0), format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 60  # an hourly rate: minutes, not seconds
    page = client_alice.post(
        f"/lesions/photos/{unscaled.pk}/scale/", {**POINTS, "length": "other", "distance_mm": "30"}
    )
    assert page.status_code == 429 and int(page["Retry-After"]) > 60
    assert "Please try again in" in page.content.decode()

    # Nothing was measured past the rate: the web form's 12 mm stands.
    assert Photo.objects.get(pk=unscaled.pk).manual_scale["distance_mm"] == 12.0
    # Reading goes on.
    assert api_alice.get(f"/api/photos/{unscaled.pk}/").status_code == 200
    assert client_alice.get(f"/lesions/photos/{unscaled.pk}/").status_code == 200
    assert client_alice.get("/lesions/dermatoscopes/").status_code == 200


def test_the_other_measuring_forms_count_too(client_alice, unscaled, django_capture_on_commit_callbacks):
    for _ in range(2):
        client_alice.post(f"/lesions/photos/{unscaled.pk}/scale/clear/")
    with django_capture_on_commit_callbacks() as queued:
        assert client_alice.post(f"/lesions/photos/{unscaled.pk}/coin/", {"coin": "eur_1"}).status_code == 429
        assert client_alice.post("/lesions/dermatoscopes/", {"name": "DermLite"}).status_code == 429
    assert queued == []  # nothing for the worker past the rate
