"""Guessing passwords: after a few failures per account or per client address, log-in is locked
for a while (even with the right password), with a clear message; the lock expires."""

import time

import pytest
from rest_framework.test import APIClient

from accounts.models import SecurityEvent
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 8
    settings.LOGIN_LOCKOUT_SECONDS = 900


def _login(client, email, password, **extra):
    return client.post("/accounts/login/", {"username": email, "password": password}, **extra)


def test_fifteen_wrong_passwords_then_the_right_one_is_refused(client, alice):
    answers = [_login(client, alice.email, f"guess-{i}").status_code for i in range(15)]
    assert answers[:4] == [200] * 4  # the form again, "wrong email or password"
    assert set(answers[4:]) == {429}
    response = _login(client, alice.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "locked for 15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(user=alice, kind="locked_out").exists()


def test_the_lock_expires(client, alice, monkeypatch):
    for i in range(5):
        _login(client, alice.email, f"guess-{i}")
    assert _login(client, alice.email, PASSWORD).status_code == 429
    later = time.time() + 901
    monkeypatch.setattr(time, "time", lambda: later)
    assert _login(client, alice.email, PASSWORD).status_code == 302


def test_the_account_lock_holds_from_another_address(client, alice):
    for i in range(5):
        _login(client, alice.email, f"guess-{i}", REMOTE_ADDR="10.0.0.1")
    assert _login(client, alice.email, PASSWORD, REMOTE_ADDR="10.0.0.2").status_code == 429


def test_one_address_guessing_many_accounts_is_locked(client, alice, bob):
    for i in range(8):
        _login(client, f"user{i}@example.com", "guess", REMOTE_ADDR="10.0.0.9")
    assert _login(client, bob.email, PASSWORD, REMOTE_ADDR="10.0.0.9").status_code == 429
    assert _login(client, bob.email, PASSWORD, REMOTE_ADDR="10.0.0.10").status_code == 302


def test_behind_a_proxy_the_address_is_the_forwarded_one(client, alice, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = {"REMOTE_ADDR": "10.0.0.254"}
    for i in range(8):
        _login(client, f"user{i}@example.com", "guess", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    # Another client behind the same proxy is not locked out with the guesser.
    assert _login(client, alice.email, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy).status_code == 302


def test_a_success_resets_the_accounts_count(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    for i in range(4):
        _login(client, alice.email, f"guess-{i}")
    assert _login(client, alice.email, PASSWORD).status_code == 302
    client.logout()
    for i in range(4):
        assert _login(client, alice.email, f"guess-{i}").status_code == 200


def test_the_admin_has_no_password_form_of_its_own(client, alice):
    """/admin/login/ sends to the rate-limited log-in: no second door to guess at."""
    response = client.post("/admin/login/?next=/admin/", {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=%2Fadmin%2F")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/login/?next=https://evil.example/")["Location"] == "/accounts/login/?next=%2Fadmin%2F"


def test_the_api_token_endpoint_shares_the_account_lock(client, alice):
    for i in range(5):
        _login(client, alice.email, f"guess-{i}")
    answer = APIClient().post("/api/auth/token/", {"email": alice.email, "password": PASSWORD})
    assert answer.status_code == 429
    assert "Too many failed log-ins" in answer.json()["detail"]
