"""The share API: create (201 {id, url, expires_at}), list, revoke; nobody else's lesion or link."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from conftest import open_report
from sharing.models import ShareLink

pytestmark = pytest.mark.django_db


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def test_create_returns_id_url_and_expiry(api_alice, lesion, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_alice.post(
            f"/api/lesions/{lesion.pk}/shares/",
            {"physician_email": "Dr@Clinic.example", "expires_in_days": 14, "message": "Please have a look"},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "url", "expires_at"}
    share = ShareLink.objects.get(pk=body["id"])
    assert share.lesion == lesion and share.physician_email == "dr@clinic.example"
    assert share.message == "Please have a look"
    expires_at = parse_datetime(body["expires_at"])
    assert abs(expires_at - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    assert body["url"].startswith("http://127.0.0.1:8000/r/")
    assert len(callbacks) == 1  # the physician's email, queued for after the commit


def test_only_the_tokens_hash_is_stored(api_alice, lesion):
    body = api_alice.post(
        f"/api/lesions/{lesion.pk}/shares/", {"physician_email": "dr@clinic.example"}, format="json"
    ).json()
    token = _token(body["url"])
    assert len(token) >= 43  # secrets.token_urlsafe(32): 256 bits
    share = ShareLink.objects.get(pk=body["id"])
    assert share.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in share.token_hash
    assert not ShareLink.objects.filter(token_hash=token).exists()


def test_default_expiry_is_30_days(api_alice, lesion):
    body = api_alice.post(
        f"/api/lesions/{lesion.pk}/shares/", {"physician_email": "dr@clinic.example"}, format="json"
    ).json()
    expires_at = parse_datetime(body["expires_at"])
    assert abs(expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"physician_email": "dr@clinic.example", "expires_in_days": 0}, "expires_in_days", "from 1 to 90 days"),
        ({"physician_email": "dr@clinic.example", "expires_in_days": 91}, "expires_in_days", "from 1 to 90 days"),
        ({"physician_email": "dr@clinic.example", "expires_in_days": "soon"}, "expires_in_days", "whole number"),
        ({"physician_email": "not-an-address"}, "physician_email", "physician's email address"),
        ({}, "physician_email", "required"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(api_alice, lesion, payload, field, message):
    response = api_alice.post(f"/api/lesions/{lesion.pk}/shares/", payload, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not ShareLink.objects.exists()


def test_sharing_someone_elses_lesion_is_404(api_bob, lesion):
    response = api_bob.post(
        f"/api/lesions/{lesion.pk}/shares/", {"physician_email": "dr@clinic.example"}, format="json"
    )
    assert response.status_code == 404
    assert not ShareLink.objects.exists()


def test_share_all_lesions(api_alice, alice):
    response = api_alice.post("/api/shares/", {"physician_email": "dr@clinic.example"}, format="json")
    assert response.status_code == 201
    share = ShareLink.objects.get(pk=response.json()["id"])
    assert share.owner == alice and share.lesion is None


def test_list_shows_recipient_expiry_status_and_access_log(api_alice, client, share):
    client.get(f"{open_report(client, share.token)}")
    rows = api_alice.get("/api/shares/").json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == share.pk and row["lesion"] == share.lesion_id
    assert row["physician_email"] == "dr@clinic.example"
    assert row["status"] == "active" and row["revoked_at"] is None and row["expires_at"]
    assert [a["kind"] for a in row["accesses"]] == ["report"]
    assert "token" not in str(row) and share.token not in str(row)


def test_delete_revokes_and_the_report_then_answers_410(api_alice, client, share):
    assert client.get(f"{open_report(client, share.token)}").status_code == 200
    response = api_alice.delete(f"/api/shares/{share.pk}/")
    assert response.status_code == 204
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert client.get(f"{open_report(client, share.token)}").status_code == 410
    assert api_alice.get(f"/api/shares/{share.pk}/").json()["status"] == "revoked"
    assert api_alice.delete(f"/api/shares/{share.pk}/").status_code == 204  # idempotent


def test_bob_cannot_see_list_or_revoke_alices_shares(api_bob, client, share):
    assert api_bob.get("/api/shares/").json()["results"] == []
    assert api_bob.get(f"/api/shares/{share.pk}/").status_code == 404
    assert api_bob.delete(f"/api/shares/{share.pk}/").status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None
    assert client.get(f"{open_report(client, share.token)}").status_code == 200


def test_the_api_needs_a_login(client, lesion, share):
    assert client.get("/api/shares/").status_code in (401, 403)
    assert client.post(f"/api/lesions/{lesion.pk}/shares/", {"physician_email": "x@y.z"}).status_code in (401, 403)
    assert client.delete(f"/api/shares/{share.pk}/").status_code in (401, 403)
