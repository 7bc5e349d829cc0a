"""The compare image's cost is bounded: memory at the largest allowed photo, a cache, and how many at once."""

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from accounts.tokens import token_create
from conftest import BASE_DIR, finish_analysis, grown_and_darkened, lesion_image
from inference import measuring
from lesions import comparison
from lesions.models import Photo

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
LARGEST_SIDE = 6300  # 39.7 megapixels: under MAX_IMAGE_PIXELS (40 million), as in the audit
MEMORY_BOUND_MB = 600


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def _large_photo(lesion, data: bytes, taken_at) -> Photo:
    """A stored photo at the largest allowed size (the lesion photo stretched), analysed with measures."""
    small = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    small.resize((LARGEST_SIDE, LARGEST_SIDE), Image.Resampling.BILINEAR).save(out, format="JPEG", quality=90)
    photo = Photo(lesion=lesion, taken_at=taken_at, sha256=f"{taken_at:%Y%m%d}".ljust(64, "0"))
    photo.width = photo.height = LARGEST_SIDE
    photo.image.save("photo.jpg", ContentFile(out.getvalue()), save=False)
    photo.save()
    photo.analyses.create(model_version="test", measures=measuring.photo_measures(small))
    finish_analysis(photo)
    return photo


@pytest.mark.django_db(transaction=True)  # the probe process reads the rows from the database
def test_one_compare_image_at_the_largest_photo_stays_under_the_memory_bound(alice, lesion, settings):
    original = lesion_image("ISIC_0024314.jpg")
    first = _large_photo(lesion, original, MARCH)
    later = _large_photo(lesion, grown_and_darkened(original), MARCH + timedelta(days=180))
    _, token = token_create(user=alice, name="probe")
    url = f"/api/lesions/{lesion.pk}/compare/image/?a={first.pk}&b={later.pk}&layer=photo"
    env = {key: value for key, value in os.environ.items() if key != "CACHE_URL"}  # a cold, local cache
    env |= {"DATABASE_URL": _database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    probe = subprocess.run(
        [sys.executable, "-m", "lesions.tests.compare_memory_probe", url, token],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    print("compare image at the largest photo:", result)  # shown with -s
    assert result["status"] == 200, result
    assert result["rss_growth_mb"] < MEMORY_BOUND_MB, result
    assert result["traced_peak_mb"] < MEMORY_BOUND_MB, result
    assert max(result["png_size"]) <= comparison.WORKING_SIDE


@pytest.fixture
def all_drawing_slots_taken():
    """As if this process were drawing as many compare pictures as it may at once."""
    slots = comparison._drawing_slots()
    taken = 0
    while slots.acquire(blocking=False):
        taken += 1
    yield
    for _ in range(taken):
        slots.release()


@pytest.mark.django_db
def test_a_drawn_picture_is_cached_and_more_at_once_than_allowed_are_refused(
    api_alice, lesion, pair, request, settings
):
    settings.COMPARE_IMAGE_WAIT_SECONDS = 0.2  # no slot frees up here: do not wait the default 20 s
    first, later = pair
    url = f"/api/lesions/{lesion.pk}/compare/image/?a={first.pk}&b={later.pk}"
    drawn = api_alice.get(url + "&layer=photo")
    assert drawn.status_code == 200

    request.getfixturevalue("all_drawing_slots_taken")
    # The picture drawn before comes from the cache, busy or not.
    again = api_alice.get(url + "&layer=photo")
    assert again.status_code == 200 and again.content == drawn.content
    # One not drawn yet waits for a free slot, then, with none, 429 with Retry-After, in the API's error shape.
    busy = api_alice.get(url + "&layer=outline")
    assert busy.status_code == 429
    assert int(busy["Retry-After"]) > 0
    assert "detail" in busy.json()
