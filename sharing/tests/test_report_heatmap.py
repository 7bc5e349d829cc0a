"""The physician's report shows where the model looked, through the link and only within it."""

import io
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from pypdf import PdfReader

from conftest import finish_analysis, jpeg_bytes, open_report, upload
from lesions import services
from sharing import services as sharing_services

pytestmark = pytest.mark.django_db


def _with_heatmap(photo):
    """Finish the photo's analysis with a heatmap, as the worker does (a plain JPEG stands in)."""
    analysis = finish_analysis(photo)
    analysis.heatmap.save("heatmap.jpg", ContentFile(jpeg_bytes(color=(200, 40, 40))), save=True)
    return photo


@pytest.fixture
def heatmap_photo(photo):
    return _with_heatmap(photo)


def _pdf_images(response) -> int:
    assert response.status_code == 200
    return sum(len(page.images) for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_physician_sees_the_heatmap_through_the_link(client, share, heatmap_photo):
    url = f"/report/{share.pk}/photos/{heatmap_photo.pk}/heatmap/"
    page = client.get(f"{open_report(client, share.token)}").content.decode()
    assert f'src="{url}"' in page
    assert "Show where the model looked" in page and "skinsite/heatmap.js" in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"
    # The patient's own heatmap URL still wants the owner's login.
    assert client.get(f"/lesions/photos/{heatmap_photo.pk}/heatmap/").status_code == 302


def test_an_expired_or_revoked_link_shows_no_heatmap(client, share, heatmap_photo):
    url = f"{open_report(client, share.token)}photos/{heatmap_photo.pk}/heatmap/"
    share.expires_at = timezone.now() - timedelta(seconds=1)
    share.save()
    response = client.get(url)
    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    share.expires_at = timezone.now() + timedelta(days=1)
    share.save()
    assert client.get(url).status_code == 200
    sharing_services.share_link_revoke(share=share)
    assert client.get(url).status_code == 410


def test_a_wrong_token_is_404(client, share, heatmap_photo):
    assert client.get(f"/r/{share.token[:-2]}xx/photos/{heatmap_photo.pk}/heatmap/").status_code == 404


def test_heatmaps_outside_the_shared_lesion_are_not_found(client, alice, bob, share, heatmap_photo):
    other_lesion = services.lesion_create(owner=alice, name="Right calf", body_site="lower extremity")
    other_photo = _with_heatmap(services.photo_create(lesion=other_lesion, upload=upload(jpeg_bytes())))
    bobs_lesion = services.lesion_create(owner=bob, name="Bob's mole")
    bobs_photo = _with_heatmap(services.photo_create(lesion=bobs_lesion, upload=upload(jpeg_bytes())))
    for photo in (other_photo, bobs_photo):
        assert client.get(f"{open_report(client, share.token)}photos/{photo.pk}/heatmap/").status_code == 404
        assert client.get(f"/lesions/photos/{photo.pk}/heatmap/").status_code == 302


def test_a_link_to_all_lesions_shows_each_lesions_heatmaps_but_not_another_users(
    client, alice, bob, heatmap_photo, django_capture_on_commit_callbacks
):
    bobs_lesion = services.lesion_create(owner=bob, name="Bob's mole")
    bobs_photo = _with_heatmap(services.photo_create(lesion=bobs_lesion, upload=upload(jpeg_bytes())))
    with django_capture_on_commit_callbacks():
        _, token = sharing_services.share_link_create(owner=alice, physician_email="dr@clinic.example")
    assert client.get(f"{open_report(client, token)}photos/{heatmap_photo.pk}/heatmap/").status_code == 200
    assert client.get(f"{open_report(client, token)}photos/{bobs_photo.pk}/heatmap/").status_code == 404


def test_no_heatmap_before_the_analysis_is_done(client, share, photo):
    url = f"/r/{share.token}/photos/{photo.pk}/heatmap/"
    assert client.get(url).status_code == 404  # pending
    page = client.get(f"{open_report(client, share.token)}").content.decode()
    assert url not in page and "data-heatmap-toggle" not in page

    finish_analysis(photo)  # done, but made before heatmaps existed
    assert client.get(url).status_code == 404
    assert "data-heatmap-toggle" not in client.get(f"{open_report(client, share.token)}").content.decode()


def test_the_pdf_puts_the_heatmap_beside_the_photo(client, share, photo):
    finish_analysis(photo)
    without = client.get(f"{open_report(client, share.token)}report.pdf")
    assert _pdf_images(without) == 1  # the photo alone
    _with_heatmap(photo)
    with_heatmap = client.get(f"{open_report(client, share.token)}report.pdf")
    assert _pdf_images(with_heatmap) == 2
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(with_heatmap.content)).pages)
    assert "Where the model looked" in " ".join(text.split())  # the caption wraps in its narrow column
