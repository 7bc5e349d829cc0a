"""Fixtures shared by every app's tests: alice and bob, their clients, lesions and photos.

Tests that need a real Celery worker use the `celery_worker` fixture from
`inference/tests/worker.py` (a real process against the same database and broker).
"""

import io
import shutil
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

BASE_DIR = Path(__file__).resolve().parent
TESTDATA = BASE_DIR / "testdata" / "ham10000"
PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Every test writes photos to its own folder, never into var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_api_throttles(settings):
    """API rate limits count in the cache: each test starts from zero, in its own memory cache."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def alice(db):
    from accounts.models import User

    return User.objects.create_user(email="alice@example.com", password=PASSWORD, display_name="Alice")


@pytest.fixture
def bob(db):
    from accounts.models import User

    return User.objects.create_user(email="bob@example.com", password=PASSWORD, display_name="Bob")


@pytest.fixture
def client_alice(client, alice):
    client.force_login(alice)
    return client


def _api_client(user) -> APIClient:
    from accounts.tokens import token_create

    api = APIClient()
    _, key = token_create(user=user, name="test client")
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.fixture
def api_alice(alice) -> APIClient:
    return _api_client(alice)


@pytest.fixture
def api_bob(bob) -> APIClient:
    return _api_client(bob)


def lesion_image_paths() -> list[Path]:
    """The committed real HAM10000 test images (see testdata/ham10000/ATTRIBUTION.md)."""
    return sorted(TESTDATA.glob("*.jpg"))


def jpeg_bytes(size=(200, 150), color=(180, 120, 100), exif=None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="JPEG", **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def upload(data: bytes, name: str = "mole.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def real_image_bytes() -> bytes:
    """A real dermoscopy image when the test images are present, else a plain JPEG."""
    paths = lesion_image_paths()
    return paths[0].read_bytes() if paths else jpeg_bytes()


@pytest.fixture
def lesion(alice):
    from lesions import services

    return services.lesion_create(owner=alice, name="Left shoulder", body_site="back")


@pytest.fixture
def photo(lesion, real_image_bytes):
    """A stored photo of alice's lesion with a pending analysis (no task is sent)."""
    from lesions import services

    return services.photo_create(lesion=lesion, upload=upload(real_image_bytes))
