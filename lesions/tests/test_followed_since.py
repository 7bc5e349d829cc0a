"""The lesion page's "followed since" is when its first photo was taken, as on the physician's report: a
patient who adds last spring's photos of a mole has been following it since then, not since today."""

from datetime import datetime

import pytest
from django.utils import timezone

from lesions.models import Photo

pytestmark = pytest.mark.django_db


def test_followed_since_the_first_photo(client_alice, lesion, done_photo):
    Photo.objects.filter(pk=done_photo.pk).update(taken_at=timezone.make_aware(datetime(2025, 3, 1, 10, 0)))

    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()

    assert "followed since 1 Mar 2025" in page


def test_without_photos_followed_since_the_lesion_was_added(client_alice, lesion):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()

    assert f"followed since {timezone.localtime(lesion.created_at):%-d %b %Y}" in page
