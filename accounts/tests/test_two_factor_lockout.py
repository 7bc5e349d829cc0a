"""The two-factor code's failure count: only a right code clears it, and a right code is never
refused (short of a lock). No fixture turns django-otp's per-device backoff off here: these tests
run with the settings a patient meets."""

import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


@pytest.fixture
def device(alice) -> TOTPDevice:
    return TOTPDevice.objects.create(user=alice, name="Authenticator app", confirmed=True)


def _password(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/code/"


def test_typing_the_password_again_does_not_reset_the_code_count(client, alice, device, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    _password(client, alice)
    assert client.post("/accounts/login/code/", {"code": "000000"}).status_code == 200
    assert client.post("/accounts/login/code/", {"code": "000001"}).status_code == 200
    _password(client, alice)  # the right password again: the two wrong codes still count
    third = client.post("/accounts/login/code/", {"code": "000002"})
    assert third.status_code == 429
    # Locked: neither the password nor a right code gets in until the lock expires.
    assert client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD}).status_code == 429


def test_a_right_code_just_after_a_wrong_one_is_accepted(client, alice, device):
    _password(client, alice)
    assert client.post("/accounts/login/code/", {"code": "000000"}).status_code == 200
    assert client.post("/accounts/login/code/", {"code": _code(device)}).status_code == 302
    assert client.get("/lesions/").status_code == 200


def test_a_right_code_clears_the_count(client, alice, device, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    _password(client, alice)
    client.post("/accounts/login/code/", {"code": "000000"})
    client.post("/accounts/login/code/", {"code": "000001"})
    assert client.post("/accounts/login/code/", {"code": _code(device)}).status_code == 302
    client.logout()
    _password(client, alice)
    assert client.post("/accounts/login/code/", {"code": "000002"}).status_code == 200  # 1 of 3, not 3


def test_a_right_recovery_code_just_after_a_wrong_one_is_accepted(client, alice, device):
    from accounts import two_factor

    codes = two_factor.recovery_codes_create(user=alice)
    _password(client, alice)
    assert client.post("/accounts/login/code/", {"code": "wrongcode"}).status_code == 200
    assert client.post("/accounts/login/code/", {"code": codes[0]}).status_code == 302


def test_the_api_token_counts_codes_across_passwords(alice, device, settings):
    from rest_framework.test import APIClient

    settings.LOGIN_FAILURE_LIMIT = 3
    api = APIClient()
    body = {"email": alice.email, "password": PASSWORD}
    assert api.post("/api/auth/token/", body | {"code": "000000"}).status_code == 400
    assert api.post("/api/auth/token/", body | {"code": "000001"}).status_code == 400
    assert api.post("/api/auth/token/", body | {"code": "000002"}).status_code == 429


def test_codes_on_the_two_factor_page_count_too(client, alice, device, settings):
    """django-otp's backoff is off, so the account page's code checks (verify a session that
    logged in before two-factor was on, disable it) count towards the same lock-out."""
    settings.LOGIN_FAILURE_LIMIT = 3
    client.force_login(alice)  # a session from before two-factor: logged in, not verified
    answers = [
        client.post("/accounts/two-factor/", {"action": "verify", "code": f"00000{i}"}).status_code for i in range(3)
    ]
    assert answers == [200, 200, 429]
    locked = client.post("/accounts/two-factor/", {"action": "verify", "code": _code(device)})
    assert locked.status_code == 429
    assert client.post("/accounts/login/", {"username": alice.email, "password": PASSWORD}).status_code == 429
