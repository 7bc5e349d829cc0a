"""A photo's keypoints are found once: comparing it with another photo later reuses them, same result."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from django.core.cache import cache
from django.utils import timezone
from PIL import Image

from conftest import grown_and_darkened, lesion_image_paths, upload
from inference import keypoints, measuring
from lesions import comparison, services

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))


@pytest.fixture
def photos(lesion):
    """The first photo of a lesion, then one of it grown, then one unchanged."""
    original = next(p for p in lesion_image_paths() if p.name == "ISIC_0024314.jpg").read_bytes()
    return [
        services.photo_create(lesion=lesion, upload=upload(data), taken_at=MARCH + timedelta(days=90 * n))
        for n, data in enumerate([original, grown_and_darkened(original), original])
    ]


@pytest.fixture
def keypoint_searches(monkeypatch) -> list[tuple[int, int]]:
    """The size of every photo whose keypoints are searched for, in order."""
    searches: list[tuple[int, int]] = []
    search = measuring.photo_features

    def counted(image):
        searches.append(image.size)
        return search(image)

    monkeypatch.setattr(measuring, "photo_features", counted)
    return searches


def _compare(lesion, a, b) -> comparison.Comparison:
    return comparison.photo_pair_compare(comparison.photo_pair_of_lesion(lesion=lesion, a=a.pk, b=b.pk))


def test_the_first_photo_is_searched_once_for_two_comparisons(lesion, photos, keypoint_searches):
    first, grown, unchanged = photos
    cold = _compare(lesion, first, unchanged)
    assert len(keypoint_searches) == 2 and cold.aligned

    cache.clear()  # nothing kept: the pair, then the first photo with another
    keypoint_searches.clear()
    _compare(lesion, first, grown)
    assert len(keypoint_searches) == 2
    warm = _compare(lesion, first, unchanged)
    assert len(keypoint_searches) == 3  # only the unchanged photo's: the first photo's were kept
    assert warm.result == cold.result


def test_cached_keypoints_are_the_ones_found(photos, keypoint_searches):
    first = photos[0]
    with first.image.open("rb") as fh:
        image = Image.open(fh).convert("RGB")
    found = keypoints.photo_features_cached(first, image)
    kept = keypoints.photo_features_cached(first, image)
    assert len(keypoint_searches) == 1
    assert found is not None and kept is not None and found is not kept
    assert np.array_equal(found.xy, kept.xy) and found.factor == kept.factor
    assert kept.descriptors.dtype == bool and np.array_equal(found.descriptors, kept.descriptors)

    # The same photo decoded at another size (as the worker decodes large photos) has its own keypoints.
    smaller = keypoints.photo_features_cached(first, image.resize((100, 75)))
    assert len(keypoint_searches) == 2 and smaller is not None and smaller.factor != found.factor


def test_without_a_cache_keypoints_are_found_each_time(settings, photos, keypoint_searches):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    first = photos[0]
    with first.image.open("rb") as fh:
        image = Image.open(fh).convert("RGB")
    a = keypoints.photo_features_cached(first, image)
    b = keypoints.photo_features_cached(first, image)
    assert len(keypoint_searches) == 2 and a is not None and b is not None
    assert np.array_equal(a.descriptors, b.descriptors)
