"""The account page shows a security log: log-ins, failed log-ins, new devices, password changes."""

import pytest
from rest_framework.test import APIClient

from accounts import services
from accounts.models import SecurityEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _kinds(user) -> list[str]:
    return list(SecurityEvent.objects.filter(user=user).order_by("created_at", "id").values_list("kind", flat=True))


def test_log_ins_and_failed_log_ins_are_logged_with_the_client(client, alice):
    client.post("/accounts/login/", {"username": alice.email, "password": "wrong"}, HTTP_USER_AGENT="Firefox/140")
    client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD}, HTTP_USER_AGENT="Firefox/140")
    assert _kinds(alice) == ["login_failed", "login"]
    event = SecurityEvent.objects.filter(user=alice).first()
    assert event.ip_address == "127.0.0.1" and event.user_agent == "Firefox/140"
    page = client.get("/accounts/settings/").content.decode()
    assert "Failed log-in" in page and "Logged in" in page and "Firefox/140" in page


def test_a_failed_log_in_with_an_unknown_address_logs_nothing(client, alice):
    client.post("/accounts/login/", {"username": "nobody@example.com", "password": "x"})
    assert not SecurityEvent.objects.exists()


def test_new_and_revoked_devices_are_logged(alice):
    api = APIClient()
    answer = api.post("/api/auth/token/", {"email": alice.email, "password": PASSWORD, "name": "Alice's phone"})
    assert answer.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    assert api.delete(f"/api/auth/tokens/{answer.json()['id']}/").status_code == 204
    assert _kinds(alice) == ["new_device", "device_revoked"]
    assert SecurityEvent.objects.filter(user=alice, detail="Alice's phone").count() == 2


def test_a_password_change_is_logged(client_alice, alice):
    new = "another-Long-pass-42"
    response = client_alice.post(
        "/accounts/password_change/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert "password_changed" in _kinds(alice)


def test_the_log_shows_only_the_users_own_events(client_alice, alice, bob):
    services.security_event_record(user=bob, kind=SecurityEvent.Kind.NEW_DEVICE, detail="Bob's tablet")
    services.security_event_record(user=alice, kind=SecurityEvent.Kind.SHARE_LINK_CREATED, detail="dr@example.org")
    page = client_alice.get("/accounts/settings/").content.decode()
    assert "Bob&#x27;s tablet" not in page
    assert "Report shared: dr@example.org" in page


def test_share_kinds_exist_for_the_sharing_code(alice):
    for kind in ("share_link_created", "share_link_opened", "share_link_revoked"):
        event = services.security_event_record(user=alice, kind=kind, detail="x" * 300)
        assert len(event.detail) == 200 and event.ip_address is None
    with pytest.raises(ValueError):
        services.security_event_record(user=alice, kind="made_up")
