"""Uploads: a body over MAX_UPLOAD_MB is stopped as it streams in (for anonymous POSTs too),
web uploads share the API's upload rate, and the stored photo keeps pixels only."""

import io

import pytest
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from PIL import Image

from conftest import jpeg_bytes, upload
from lesions.models import Photo

pytestmark = pytest.mark.django_db
COMMENT = b"Patient Jane Doe, 12 Main St"


def _noise_jpeg(side: int = 1400) -> bytes:
    out = io.BytesIO()
    # Noise does not compress, so this JPEG is well over 1 MB.
    Image.effect_noise((side, side), 120).convert("RGB").save(out, format="JPEG", quality=100)
    return out.getvalue()


@pytest.fixture
def spooled(monkeypatch):
    """How many bytes reached Django's own upload handlers (memory and temporary file)."""
    seen = {"bytes": 0}
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        seen["bytes"] += len(raw_data)
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    monkeypatch.setattr("django.conf.settings.FILE_UPLOAD_MAX_MEMORY_SIZE", 0)  # always a temp file
    return seen


def test_a_web_upload_over_the_limit_is_stopped_with_a_message(client_alice, lesion, settings, spooled):
    settings.MAX_UPLOAD_MB = 1
    big = _noise_jpeg(2000)
    assert len(big) > 2 * 1024 * 1024
    response = client_alice.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(big)})
    assert response.status_code == 413
    assert "The file is too large; the limit is 1 MB." in response.content.decode()
    assert spooled["bytes"] <= 1024 * 1024  # stopped at the limit, not after the whole file
    assert Photo.objects.count() == 0


def test_the_api_keeps_its_error_shape(api_alice, lesion, settings, spooled):
    settings.MAX_UPLOAD_MB = 1
    response = api_alice.post(f"/api/lesions/{lesion.pk}/photos/", {"image": upload(_noise_jpeg())}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"image": ["The file is too large; the limit is 1 MB."]}
    assert spooled["bytes"] <= 1024 * 1024


def test_a_declared_length_over_the_limit_is_refused_before_reading(client_alice, lesion, settings, spooled):
    settings.MAX_UPLOAD_MB = 1
    response = client_alice.post(
        f"/lesions/{lesion.pk}/photos/", {"image": upload(jpeg_bytes())}, CONTENT_LENGTH=str(50 * 1024 * 1024)
    )
    assert response.status_code == 413
    assert spooled["bytes"] == 0


def test_an_anonymous_post_spools_no_file(client, lesion, spooled):
    response = client.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(_noise_jpeg(600))})
    assert response.status_code == 413
    assert "Log in to upload photos." in response.content.decode()
    assert spooled["bytes"] == 0
    # Anonymous forms without files are untouched.
    assert client.post("/accounts/login/", {"username": "x@example.com", "password": "y"}).status_code == 200


def test_uploads_within_the_limit_still_work(client_alice, lesion):
    response = client_alice.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(jpeg_bytes())})
    assert response.status_code == 302
    assert Photo.objects.count() == 1


def test_web_uploads_share_the_api_upload_rate(client_alice, api_alice, lesion, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "upload": "3/hour"},
    }
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        api = api_alice.post(f"/api/lesions/{lesion.pk}/photos/", {"image": upload(jpeg_bytes())}, format="multipart")
        assert api.status_code == 202
        codes = [
            client_alice.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(jpeg_bytes())}).status_code
            for _ in range(3)
        ]
        assert codes == [302, 302, 429]
        page = client_alice.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(jpeg_bytes())})
        assert page.status_code == 429 and "Too many uploads" in page.content.decode()
        assert Photo.objects.count() == 3
    finally:
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


def _jpeg_with_metadata() -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "Jane Doe's mole"  # ImageDescription
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Jane Doe</dc:creator></x:xmpmeta>'
    Image.new("RGB", (300, 200), (180, 120, 100)).save(out, format="JPEG", comment=COMMENT, exif=exif, xmp=xmp)
    data = out.getvalue()
    assert COMMENT in data and b"Jane Doe" in data
    return data


def test_the_stored_photo_and_thumbnail_keep_pixels_only(client_alice, lesion):
    response = client_alice.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(_jpeg_with_metadata())})
    assert response.status_code == 302
    photo = Photo.objects.get()
    for field in (photo.image, photo.thumbnail):
        with field.open("rb") as fh:
            stored = fh.read()
        assert b"Jane Doe" not in stored and b"Main St" not in stored, field.name
        image = Image.open(io.BytesIO(stored))
        assert not {"comment", "exif", "xmp", "icc_profile"} & set(image.info), (field.name, image.info.keys())
