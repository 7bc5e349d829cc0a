"""Device tokens: one per phone or app, listed with names and last use, revocable, stored hashed."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _log_in(email: str = "alice@example.com", **extra) -> dict:
    response = APIClient().post("/api/auth/token/", {"email": email, "password": PASSWORD, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _client(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_each_device_gets_its_own_named_token_and_sees_which_is_its_own(alice):
    phone = _log_in(name="Alice's phone")
    tablet = _log_in(name="Tablet")
    assert phone["token"] != tablet["token"]
    assert phone["name"] == "Alice's phone"

    listing = _client(phone["token"]).get("/api/auth/tokens/")
    assert listing.status_code == 200
    rows = {row["name"]: row for row in listing.json()["results"]}
    assert set(rows) == {"Alice's phone", "Tablet"}
    assert rows["Alice's phone"]["current"] is True
    assert rows["Tablet"]["current"] is False
    assert rows["Alice's phone"]["last_used_at"] is not None  # this very request used it
    assert rows["Tablet"]["last_used_at"] is None
    assert set(rows["Tablet"]) == {"id", "name", "created_at", "last_used_at", "current"}  # never the token


def test_a_token_without_a_name_is_named_after_the_app(alice):
    response = APIClient().post(
        "/api/auth/token/",
        {"email": "alice@example.com", "password": PASSWORD},
        format="json",
        HTTP_USER_AGENT="SkinsiteApp/2.1 (iPhone)",
    )
    assert response.json()["name"] == "SkinsiteApp/2.1 (iPhone)"


def test_revoking_a_lost_phones_token_cuts_it_off_and_nothing_else(alice):
    phone = _log_in(name="Lost phone")
    laptop = _log_in(name="Laptop")
    assert _client(phone["token"]).get("/api/lesions/").status_code == 200

    revoked = _client(laptop["token"]).delete(f"/api/auth/tokens/{phone['id']}/")
    assert revoked.status_code == 204

    refused = _client(phone["token"]).get("/api/lesions/")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert _client(laptop["token"]).get("/api/lesions/").status_code == 200
    assert [row["name"] for row in _client(laptop["token"]).get("/api/auth/tokens/").json()["results"]] == ["Laptop"]


def test_bob_can_neither_see_nor_revoke_alices_tokens(alice, bob):
    alice_token = _log_in(name="Alice's phone")
    bob_api = _client(_log_in("bob@example.com", name="Bob's phone")["token"])

    assert [row["name"] for row in bob_api.get("/api/auth/tokens/").json()["results"]] == ["Bob's phone"]
    assert bob_api.delete(f"/api/auth/tokens/{alice_token['id']}/").status_code == 404
    assert _client(alice_token["token"]).get("/api/lesions/").status_code == 200


def test_only_a_hash_of_the_token_is_stored(alice):
    issued = _log_in(name="Phone")
    row = ApiToken.objects.get(pk=issued["id"])
    assert issued["token"] not in {row.key_hash, row.name}
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert issued["token"] not in repr(cursor.fetchall())


def test_a_wrong_or_malformed_token_is_refused(alice):
    assert _client("not-a-real-token").get("/api/lesions/").status_code == 401
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token two words")
    assert api.get("/api/lesions/").status_code == 401


def test_a_deactivated_users_tokens_stop_working(alice):
    token = _log_in()["token"]
    alice.is_active = False
    alice.save()
    assert _client(token).get("/api/lesions/").status_code == 401


def test_tokens_issued_before_device_tokens_keep_working_and_lose_their_clear_text(alice):
    """The migration turns DRF authtoken rows into hashed device tokens, so installed apps stay logged in."""
    legacy_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token"
            " (key varchar(40) PRIMARY KEY, created timestamp with time zone, user_id bigint)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [legacy_key, timezone.now(), alice.pk])
    migration = importlib.import_module("accounts.migrations.0003_api_tokens")

    migration.convert_legacy_tokens(apps, SimpleNamespace(connection=connection))

    assert _client(legacy_key).get("/api/lesions/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    assert not ApiToken.objects.filter(key_hash=legacy_key).exists()
