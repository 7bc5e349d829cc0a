"""With Redis (the rate-limit cache) down or hung, requests go through instead of answering 500."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faults.silent import SilentServer, free_port

BASE_DIR = Path(__file__).resolve().parents[2]


def _cache_settings(**env: str) -> dict:
    probe = (
        "import json, os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'skinsite.settings'; django.setup()\n"
        "from django.conf import settings; print(json.dumps(settings.CACHES['default']))"
    )
    clean = {k: v for k, v in os.environ.items() if k != "CACHE_URL"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=BASE_DIR, env=clean | env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_redis_cache_url_gets_the_fail_open_backend_with_short_timeouts():
    cache = _cache_settings(CACHE_URL="redis://127.0.0.1:6399/1")
    assert cache["BACKEND"] == "skinsite.cache.FailOpenRedisCache"
    assert 0 < cache["OPTIONS"]["socket_timeout"] <= 2
    assert 0 < cache["OPTIONS"]["socket_connect_timeout"] <= 2


def _use_redis_cache(settings, port: int) -> None:
    # Django's setting_changed handler rebuilds the cache handler from this.
    settings.CACHES = {
        "default": {
            "BACKEND": "skinsite.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/1",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_down(settings):
    _use_redis_cache(settings, free_port())  # nothing listens there: connection refused


@pytest.fixture
def redis_hung(settings):
    with SilentServer() as server:
        _use_redis_cache(settings, server.port)
        yield server


def test_api_answers_with_the_cache_down(api_alice, lesion, redis_down):
    response = api_alice.get("/api/lesions/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_api_answers_within_seconds_with_the_cache_hung(api_alice, lesion, redis_hung):
    started = time.monotonic()
    response = api_alice.get("/api/lesions/")
    assert response.status_code == 200
    assert redis_hung.accepted >= 1  # it really tried the hung server
    assert time.monotonic() - started < 10


def test_login_throttle_fails_open(alice, redis_down):
    from rest_framework.test import APIClient

    from conftest import PASSWORD

    response = APIClient().post("/api/auth/token/", {"email": alice.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_physicians_report_answers_with_the_cache_down(client, api_alice, lesion, redis_down):
    from urllib.parse import urlsplit

    shared = api_alice.post(f"/api/lesions/{lesion.pk}/shares/", {"physician_email": "dr@example.org"}, format="json")
    assert shared.status_code == 201, shared.content
    response = client.get(urlsplit(shared.json()["url"]).path, follow=True)
    assert response.status_code == 200
