"""Rate limits: log-in and sign-up are stricter than the rest, and a 429 says when to try again."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    """Set some rates low for one test (DRF reads them once, into the throttle class)."""

    def set_rates(**scopes: str) -> None:
        for scope, rate in scopes.items():
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


def test_password_guessing_is_slowed_down_and_told_when_to_retry(alice, rates):
    rates(token="3/minute")
    api = APIClient()
    wrong = {"email": "alice@example.com", "password": "guess"}
    assert [api.post("/api/auth/token/", wrong, format="json").status_code for _ in range(3)] == [400, 400, 400]

    refused = api.post("/api/auth/token/", {"email": "alice@example.com", "password": PASSWORD}, format="json")

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert f"{refused['Retry-After']} seconds" in refused.json()["detail"]


def test_sign_ups_from_one_address_are_limited(db, rates):
    rates(register="2/hour")
    api = APIClient()
    codes = [
        api.post("/api/auth/register/", {"email": f"u{n}@example.com", "password": PASSWORD}, format="json").status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]


def test_other_requests_have_a_looser_per_user_limit_that_does_not_spill_over(api_alice, api_bob, rates):
    rates(user="5/minute")
    assert [api_alice.get("/api/lesions/").status_code for _ in range(5)] == [200] * 5
    assert api_alice.get("/api/lesions/").status_code == 429
    assert api_bob.get("/api/lesions/").status_code == 200  # counted per user, not per address


def test_anonymous_requests_are_limited_per_address(db, rates):
    rates(anon="2/minute")
    api = APIClient()
    assert [api.get("/api/conditions/").status_code for _ in range(2)] == [200, 200]
    refused = api.get("/api/conditions/")
    assert refused.status_code == 429 and "Retry-After" in refused
    # A forged X-Forwarded-For does not buy a fresh allowance (API_NUM_PROXIES=0).
    assert api.get("/api/conditions/", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
