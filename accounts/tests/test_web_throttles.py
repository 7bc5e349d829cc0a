"""The web sign-up and password-reset pages are rate-limited like the API; reset mail comes from the worker."""

import pytest
from django.core import mail

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_web_sign_ups_are_limited_per_client_address(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "register": "3/hour"},
    }
    codes = []
    for i in range(5):
        data = {"email": f"u{i}@example.com", "password1": PASSWORD, "password2": PASSWORD}
        codes.append(client.post("/accounts/signup/", data).status_code)
    assert codes[:3] == [302, 302, 302] and codes[3:] == [429, 429]
    assert User.objects.count() == 3
    # Another client address still may.
    other = client.post(
        "/accounts/signup/",
        {"email": "late@example.com", "password1": PASSWORD, "password2": PASSWORD},
        REMOTE_ADDR="10.1.1.1",
    )
    assert other.status_code == 302


def test_password_reset_is_limited_per_address_asked_for(client, alice, settings, sent_mail):
    settings.PASSWORD_RESET_THROTTLE = "2/hour"
    with sent_mail():
        codes = [
            client.post("/accounts/password_reset/", {"email": alice.email}, REMOTE_ADDR=f"10.0.0.{i}").status_code
            for i in range(4)
        ]
    assert codes == [302, 302, 429, 429]
    assert len(mail.outbox) == 2  # an inbox cannot be flooded from many addresses


def test_password_reset_is_limited_per_client_address(client, alice, settings):
    settings.PASSWORD_RESET_THROTTLE = "2/hour"
    codes = [client.post("/accounts/password_reset/", {"email": f"x{i}@example.com"}).status_code for i in range(3)]
    assert codes == [302, 302, 429]
    assert (
        "Too many password reset requests"
        in client.post("/accounts/password_reset/", {"email": "y@example.com"}).content.decode()
    )


def test_the_reset_mail_is_queued_not_sent_by_the_page(client, alice, django_capture_on_commit_callbacks, monkeypatch):
    from accounts import tasks

    queued = []
    monkeypatch.setattr(tasks.send_password_reset, "delay", lambda user_id: queued.append(user_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/password_reset/", {"email": alice.email}).status_code == 302
    assert queued == [alice.pk]
    assert mail.outbox == []
