"""Comparing two photos of a lesion: the API, the aligned images, the page, and owner-only access."""

import io
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from PIL import Image

from conftest import grown_and_darkened, lesion_image, upload
from inference.services import analysis_run
from lesions import services

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))


@pytest.fixture
def pair(lesion):
    original = lesion_image("ISIC_0024314.jpg")
    first = services.photo_create(lesion=lesion, upload=upload(original), taken_at=MARCH)
    later = services.photo_create(
        lesion=lesion, upload=upload(grown_and_darkened(original)), taken_at=MARCH + timedelta(days=180)
    )
    analysis_run(photo_id=first.pk)
    analysis_run(photo_id=later.pk)
    return first, later


def test_compare_api_aligns_measures_and_says_what_changed(api_alice, lesion, pair):
    first, later = pair
    # Either order: the earlier photo is the one taken first.
    response = api_alice.get(f"/api/lesions/{lesion.pk}/compare/?a={later.pk}&b={first.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["earlier"]["photo_id"], body["later"]["photo_id"]) == (first.pk, later.pk)
    assert body["alignment"]["ok"] and abs(body["alignment"]["scale"] - 1) < 0.05
    assert body["relative_area"] > 5
    assert any("larger than in March" in s for s in body["sentences"])
    assert body["earlier"]["measures"]["ok"] and body["later"]["measures"]["ok"]
    assert body["later"]["advice"]["notice"]

    for key in ("aligned_later_url", "aligned_later_outline_url"):
        image = api_alice.get(body[key])
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
        assert image["Cache-Control"] == "private, no-store"
        png = Image.open(io.BytesIO(image.content))
        assert png.size == (200, 150)  # the earlier photo's frame


def test_photos_that_cannot_be_aligned_get_no_overlay(api_alice, client_alice, lesion):
    first = services.photo_create(lesion=lesion, upload=upload(lesion_image("ISIC_0024314.jpg")), taken_at=MARCH)
    other = services.photo_create(
        lesion=lesion, upload=upload(lesion_image("ISIC_0025197.jpg")), taken_at=MARCH + timedelta(days=30)
    )
    body = api_alice.get(f"/api/lesions/{lesion.pk}/compare/?a={first.pk}&b={other.pk}").json()
    assert body["alignment"]["ok"] is False and body["alignment"]["reason_text"]
    assert body["aligned_later_url"] is None and body["relative_area"] is None
    image = api_alice.get(f"/api/lesions/{lesion.pk}/compare/image/?a={first.pk}&b={other.pk}")
    assert image.status_code == 404

    page = client_alice.get(f"/lesions/{lesion.pk}/compare/?a={first.pk}&b={other.pk}").content.decode()
    assert "These photos could not be aligned" in page
    assert "data-compare-slider" not in page


def test_compare_page_shows_both_photos_the_overlay_and_what_changed(client_alice, lesion, pair):
    first, _later = pair
    response = client_alice.get(f"/lesions/{lesion.pk}/compare/")  # default: the first and the last photo
    assert response.status_code == 200
    page = response.content.decode()
    assert "larger than in March" in page
    assert "data-compare-slider" in page and f"/api/lesions/{lesion.pk}/compare/image/?a={first.pk}" in page
    assert "layer-heatmap" in page and "layer-outline" in page
    assert "<script>" not in page  # the CSP allows no inline script
    assert "Compare two photos" in client_alice.get(f"/lesions/{lesion.pk}/").content.decode()


def test_another_users_lesion_or_photo_is_404(api_bob, client, bob, api_alice, lesion, pair):
    first, later = pair
    assert api_bob.get(f"/api/lesions/{lesion.pk}/compare/?a={first.pk}&b={later.pk}").status_code == 404
    assert api_bob.get(f"/api/lesions/{lesion.pk}/compare/image/?a={first.pk}&b={later.pk}").status_code == 404
    client.force_login(bob)
    assert client.get(f"/lesions/{lesion.pk}/compare/?a={first.pk}&b={later.pk}").status_code == 404

    # Bob's own lesion with alice's photo ids: still 404, the photos must be of the lesion asked for.
    bobs = services.lesion_create(owner=bob, name="Bob's", body_site="back")
    bob_photo = services.photo_create(lesion=bobs, upload=upload(lesion_image("ISIC_0024317.jpg")))
    assert api_bob.get(f"/api/lesions/{bobs.pk}/compare/?a={bob_photo.pk}&b={first.pk}").status_code == 404
    assert api_alice.get(f"/api/lesions/{lesion.pk}/compare/?a={first.pk}&b={bob_photo.pk}").status_code == 404
    # One photo twice, or junk: 404 too.
    assert api_alice.get(f"/api/lesions/{lesion.pk}/compare/?a={first.pk}&b={first.pk}").status_code == 404
    assert api_alice.get(f"/api/lesions/{lesion.pk}/compare/?a=x&b=").status_code == 404


def test_analysis_api_has_measures_and_advice(api_alice, pair):
    _first, later = pair
    analysis = api_alice.get(f"/api/photos/{later.pk}/").json()["analysis"]
    assert analysis["measures"]["ok"] and len(analysis["measures"]["outline"]) > 10
    assert analysis["advice"]["notice"] and "band" in analysis["advice"]
    assert analysis["change"]["changed"] is True


def test_measures_are_charted_beside_the_probabilities(client_alice, lesion, pair):
    response = client_alice.get(f"/lesions/{lesion.pk}/")
    measures = {m["code"]: m["values"] for m in response.context["chart"]["measures"]}
    assert set(measures) == {"asymmetry", "border_irregularity", "colour_count"}
    assert len(measures["asymmetry"]) == 2 and measures["asymmetry"][1] > measures["asymmetry"][0]
    assert 'id="measures-chart"' in response.content.decode()


def test_ids_beyond_any_integer_column_are_404(api_alice, lesion):
    huge = "-1783616796536962478505984"
    assert api_alice.get(f"/api/lesions/{lesion.pk}/compare/?a={huge}&b=1").status_code == 404
    assert api_alice.get(f"/api/lesions/{lesion.pk}/compare/image/?a=1&b={2**64}").status_code == 404
