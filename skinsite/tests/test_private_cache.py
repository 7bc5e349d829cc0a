"""Every private answer says `Cache-Control: private, no-store`: pages seen logged in, the API,
photos, heatmaps, PDFs, the export and the physicians' report links."""

import pytest
from django.core.files.base import ContentFile

from conftest import finish_analysis, jpeg_bytes
from sharing.services import share_link_create

pytestmark = pytest.mark.django_db
NO_STORE = "private, no-store"


@pytest.fixture
def heatmapped(photo):
    analysis = finish_analysis(photo)
    analysis.heatmap.save("heatmap.jpg", ContentFile(jpeg_bytes()), save=True)
    return photo


@pytest.fixture
def share_token(alice, lesion, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        _, token = share_link_create(owner=alice, lesion=lesion, physician_email="dr@clinic.example")
    return token


def test_patient_pages_files_and_pdfs_are_not_stored(client_alice, heatmapped):
    photo, lesion = heatmapped, heatmapped.lesion
    for url in (
        "/lesions/",
        f"/lesions/{lesion.pk}/",
        f"/lesions/photos/{photo.pk}/",
        f"/lesions/photos/{photo.pk}/image/",
        f"/lesions/photos/{photo.pk}/thumbnail/",
        f"/lesions/photos/{photo.pk}/heatmap/",
        f"/lesions/{lesion.pk}/report.pdf",
        "/accounts/settings/",
        "/learn/",  # public content, but seen logged in: the page names the user
        "/lesions/999999/",  # a 404 too
    ):
        response = client_alice.get(url)
        assert response.status_code in (200, 404), url
        assert response["Cache-Control"] == NO_STORE, url


def test_api_answers_files_and_the_export_are_not_stored(api_alice, heatmapped):
    photo = heatmapped
    for url in (
        "/api/lesions/",
        f"/api/photos/{photo.pk}/",
        f"/api/photos/{photo.pk}/image/",
        f"/api/photos/{photo.pk}/heatmap/",
        "/api/account/export/",
        "/api/conditions/",
    ):
        response = api_alice.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == NO_STORE, url
    assert api_alice.get("/api/lesions/", HTTP_AUTHORIZATION="Token wrong")["Cache-Control"] == NO_STORE


def test_report_links_are_not_stored(client, heatmapped, share_token):
    photo = heatmapped
    opening = client.get(f"/r/{share_token}/")  # trades the token for a report session
    assert opening.status_code == 302 and opening["Cache-Control"] == NO_STORE
    report = opening["Location"]
    for url in (
        report,
        f"{report}report.pdf",
        f"{report}photos/{photo.pk}/image/",
        f"{report}photos/{photo.pk}/heatmap/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == NO_STORE, url


def test_public_pages_for_anonymous_visitors_keep_their_own_caching(client, db):
    assert "no-store" not in client.get("/").get("Cache-Control", "")
    assert client.get("/learn/")["Cache-Control"] != NO_STORE
