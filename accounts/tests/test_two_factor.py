"""Two-factor authentication: optional for patients (an authenticator app plus recovery codes),
required for staff to use the admin; log-in asks for the code after the password."""

import re
import time

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import two_factor
from accounts.models import SecurityEvent, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def _enable(client, user) -> tuple[TOTPDevice, list[str]]:
    page = client.get("/accounts/two-factor/").content.decode()
    assert 'src="data:image/svg+xml;base64,' in page and 'id="totp-secret"' in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    done = client.post("/accounts/two-factor/", {"action": "enable", "code": _code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    return device, codes


def _password_step(client, user, next_url=""):
    data = {"username": user.email, "password": PASSWORD}
    return client.post("/accounts/login/" + (f"?next={next_url}" if next_url else ""), data)


def test_a_patient_turns_it_on_and_log_in_then_asks_for_the_code(client_alice, client, alice):
    device, _ = _enable(client_alice, alice)
    assert device.confirmed and two_factor.two_factor_enabled(alice)
    client_alice.logout()

    step = _password_step(client, alice)
    assert step.status_code == 302 and step["Location"] == "/accounts/login/code/"
    assert "_auth_user_id" not in client.session  # the password alone logs nobody in
    assert client.get("/lesions/").status_code == 302

    wrong = client.post("/accounts/login/code/", {"code": "000000"})
    assert wrong.status_code == 200 and "That code is not right" in wrong.content.decode()
    assert client.post("/accounts/login/code/", {"code": _code(device, offset=30)}).status_code == 302
    assert client.get("/lesions/").status_code == 200
    kinds = set(SecurityEvent.objects.filter(user=alice).values_list("kind", flat=True))
    assert {"two_factor_enabled", "login_failed", "login"} <= kinds


def test_a_recovery_code_works_once(client_alice, client, alice):
    _, codes = _enable(client_alice, alice)
    client_alice.logout()
    _password_step(client, alice)
    assert client.post("/accounts/login/code/", {"code": codes[0]}).status_code == 302
    assert SecurityEvent.objects.filter(user=alice, kind="recovery_code_used", detail="9 left").exists()
    client.logout()
    _password_step(client, alice)
    assert client.post("/accounts/login/code/", {"code": codes[0]}).status_code == 200  # used up


def test_wrong_codes_count_towards_the_lockout(client_alice, client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    _enable(client_alice, alice)
    client_alice.logout()
    _password_step(client, alice)
    answers = [client.post("/accounts/login/code/", {"code": f"00000{i}"}).status_code for i in range(3)]
    assert answers == [200, 200, 429]
    assert _password_step(client, alice).status_code == 429  # even the password step, until it expires


def test_the_code_step_expires(client_alice, client, alice, monkeypatch):
    device, _ = _enable(client_alice, alice)
    client_alice.logout()
    _password_step(client, alice)
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.post("/accounts/login/code/", {"code": _code(device)})["Location"] == "/accounts/login/"


def test_turning_it_off_needs_the_password_and_a_code(client_alice, alice):
    _, codes = _enable(client_alice, alice)
    bad = client_alice.post("/accounts/two-factor/", {"action": "disable", "password": "nope", "code": codes[1]})
    assert bad.status_code == 200 and two_factor.two_factor_enabled(alice)
    ok = client_alice.post("/accounts/two-factor/", {"action": "disable", "password": PASSWORD, "code": codes[1]})
    assert ok.status_code == 302 and not two_factor.two_factor_enabled(alice)
    assert SecurityEvent.objects.filter(user=alice, kind="two_factor_disabled").exists()


def test_the_api_token_needs_the_code_too(client_alice, alice):
    _, codes = _enable(client_alice, alice)
    api = APIClient()
    no_code = api.post("/api/auth/token/", {"email": alice.email, "password": PASSWORD})
    assert no_code.status_code == 400 and "code" in no_code.json()
    ok = api.post("/api/auth/token/", {"email": alice.email, "password": PASSWORD, "code": codes[2]})
    assert ok.status_code == 200 and ok.json()["token"]


def test_staff_need_a_verified_session_for_the_admin(client):
    staff = User.objects.create_superuser(email="ops@example.com", password=PASSWORD)
    step = _password_step(client, staff, next_url="/admin/")
    assert step["Location"] == "/accounts/two-factor/?next=%2Fadmin%2F"  # sent to set it up
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/accounts/two-factor/?next=%2Fadmin%2F"

    device, _ = _enable(client, staff)  # setting it up verifies this session
    assert client.get("/admin/").status_code == 200
    refused = client.post("/accounts/two-factor/", {"action": "disable", "password": PASSWORD, "code": _code(device)})
    assert "Staff accounts must keep" in refused.content.decode() and two_factor.two_factor_enabled(staff)

    client.logout()
    _password_step(client, staff, next_url="/admin/")
    assert client.post("/accounts/login/code/", {"code": _code(device, offset=30)})["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_staff_session_without_a_code_does_not_reach_the_admin(client):
    staff = User.objects.create_superuser(email="ops@example.com", password=PASSWORD)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/accounts/user/").status_code == 302


def test_the_admin_sends_staff_to_the_two_factor_page_and_done_returns_to_it(client):
    staff = User.objects.create_superuser(email="ops@example.com", password=PASSWORD)
    client.force_login(staff)
    to_two_factor = client.get("/admin/login/?next=/admin/sharing/")["Location"]
    assert to_two_factor == "/accounts/two-factor/?next=%2Fadmin%2Fsharing%2F"
    client.get(to_two_factor)
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    done = client.post(to_two_factor, {"action": "enable", "code": _code(device)}).content.decode()
    assert '<a href="/admin/sharing/" role="button">Done</a>' in done
    assert client.get("/admin/sharing/").status_code == 200

    # A later session verifies on the same page and lands back in the admin, not on the page again.
    client.logout()
    client.force_login(staff)
    verified = client.post(to_two_factor, {"action": "verify", "code": _code(device, offset=30)})
    assert verified.status_code == 302 and verified["Location"] == "/admin/sharing/"


def test_the_two_factor_page_returns_only_to_this_site(client_alice, alice):
    off_site = "/accounts/two-factor/?next=https://evil.example/"
    client_alice.get(off_site)
    device = TOTPDevice.objects.get(user=alice, confirmed=False)
    done = client_alice.post(off_site, {"action": "enable", "code": _code(device)}).content.decode()
    assert "evil.example" not in done and 'role="button">Done</a>' in done
