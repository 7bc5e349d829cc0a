"""The patient's pages: add a lesion, upload from desktop or phone, see the timeline and chart."""

import json
import re

import pytest

from conftest import finish_analysis, jpeg_bytes, upload
from inference.models import Analysis
from lesions.models import Lesion, Photo
from training.contract import CLASSES

pytestmark = pytest.mark.django_db

NOTICE = b"Not a diagnosis."


def test_home_page_says_it_is_not_a_diagnosis(client):
    response = client.get("/")
    assert response.status_code == 200
    assert NOTICE in response.content


def test_dashboard_requires_login(client):
    assert client.get("/lesions/").status_code == 302


def test_add_a_lesion_with_its_body_site(client_alice, alice):
    response = client_alice.post("/lesions/new/", {"name": "Mole on calf", "body_site": "lower extremity"})
    lesion = Lesion.objects.get(owner=alice)
    assert response["Location"] == f"/lesions/{lesion.pk}/"
    assert lesion.body_site == "lower extremity"
    page = client_alice.get("/lesions/")
    assert b"Mole on calf" in page.content
    assert b"Leg (lower extremity)" in page.content


def test_lesion_page_offers_camera_capture_and_file_upload(client_alice, lesion):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert 'capture="environment"' in page
    assert 'accept="image/*"' in page
    assert 'enctype="multipart/form-data"' in page


def test_upload_from_the_web_form_then_timeline_shows_photos_newest_first(client_alice, lesion):
    for day, colour in (("2024-05-01T09:00", (90, 60, 50)), ("2024-02-01T09:00", (120, 80, 60))):
        response = client_alice.post(
            f"/lesions/{lesion.pk}/photos/", {"image": upload(jpeg_bytes(color=colour)), "taken_at": day}
        )
        assert response.status_code == 302
    may, february = Photo.objects.order_by("-taken_at")
    finish_analysis(february, nv=0.9, mel=0.1)

    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert page.index(f'id="photo-{may.pk}"') < page.index(f'id="photo-{february.pk}"')  # newest first
    assert "Analysing" in page  # May is still pending: the page keeps polling
    assert 'data-pending="1"' in page
    assert "Not a diagnosis." in page
    chart = json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page).group(1))
    assert chart["labels"] == ["2024-02-01"]
    assert chart["malignant"] == [pytest.approx(0.1)]
    assert {c["code"] for c in chart["classes"]} == set(CLASSES)


def test_timeline_fragment_stops_polling_once_everything_is_finished(client_alice, photo):
    fragment = client_alice.get(f"/lesions/{photo.lesion_id}/timeline/").content.decode()
    assert 'data-pending="1"' in fragment
    finish_analysis(photo, bcc=0.6, nv=0.4)
    fragment = client_alice.get(f"/lesions/{photo.lesion_id}/timeline/").content.decode()
    assert 'data-pending="1"' not in fragment
    assert "Basal cell carcinoma" in fragment
    assert "60%" in fragment


def test_photo_page_shows_all_probabilities_and_the_notice(client_alice, photo):
    finish_analysis(photo, mel=0.55, nv=0.45)
    page = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    for code in CLASSES:  # each type by its name, linked to its guide page; its code is no word a patient reads
        assert f'href="/learn/{code}/"' in page and f"<td>{code}" not in page
    assert "Melanoma" in page
    assert "Not a diagnosis." in page


def test_failed_analysis_shows_its_reason(client_alice, photo):
    Analysis.objects.filter(photo=photo).update(status="failed", error="The photo file is missing from storage.")
    page = client_alice.get(f"/lesions/{photo.lesion_id}/").content.decode()
    assert "Analysis failed." in page
    assert "missing from storage" in page


def test_correct_the_date_a_photo_was_taken(client_alice, photo):
    response = client_alice.post(f"/lesions/photos/{photo.pk}/", {"taken_at": "2021-07-04T10:30"})
    assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.taken_at.year == 2021
    future = client_alice.post(f"/lesions/photos/{photo.pk}/", {"taken_at": "2999-07-04T10:30"})
    assert b"cannot be in the future" in future.content


def test_edit_and_delete_a_photo(client_alice, photo):
    assert client_alice.post(f"/lesions/photos/{photo.pk}/delete/").status_code == 302
    assert not Photo.objects.filter(pk=photo.pk).exists()


def test_image_views_stream_jpeg_to_the_owner_with_private_caching(client_alice, photo):
    for path in (f"/lesions/photos/{photo.pk}/image/", f"/lesions/photos/{photo.pk}/thumbnail/"):
        response = client_alice.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, no-store"


def test_timeline_shows_the_abcde_guide_and_links_results_to_the_conditions(client_alice, photo):
    finish_analysis(photo, mel=0.7, nv=0.3)
    page = client_alice.get(f"/lesions/{photo.lesion_id}/").content.decode()
    assert "Check your mole with ABCDE" in page
    assert 'href="/learn/guides/abcde/"' in page
    assert 'href="/learn/mel/"' in page
    photo_page = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    for code in CLASSES:
        assert f'href="/learn/{code}/"' in photo_page
