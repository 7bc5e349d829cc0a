"""Uploads have their own, stricter rate limit; reading photos does not use it up."""

import pytest
from rest_framework.throttling import SimpleRateThrottle

from conftest import jpeg_bytes, upload

pytestmark = pytest.mark.django_db


def test_uploads_are_limited_but_listing_photos_is_not(api_alice, lesion, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "upload", "2/hour")
    url = f"/api/lesions/{lesion.pk}/photos/"
    for _ in range(5):
        assert api_alice.get(url).status_code == 200
    codes = [api_alice.post(url, {"image": upload(jpeg_bytes())}, format="multipart").status_code for _ in range(3)]

    assert codes == [202, 202, 429]
    refused = api_alice.post(url, {"image": upload(jpeg_bytes())}, format="multipart")
    assert int(refused["Retry-After"]) > 60  # an hourly rate: minutes, not seconds
    assert api_alice.get(url).json()["count"] == 2
    assert api_alice.get("/api/lesions/").status_code == 200  # other requests go on
