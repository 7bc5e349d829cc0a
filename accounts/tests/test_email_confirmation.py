"""Sign-up sends a signed link (from the worker); until it is opened, the account may not have
Skinsite send email on its behalf (accounts.selectors.account_can_send_email)."""

import re

import pytest
from django.core import mail

from accounts import tasks
from accounts.confirmation import confirmation_token
from accounts.models import SecurityEvent, User
from accounts.selectors import account_can_send_email
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_up(client, sent_mail, email="new@example.com"):
    with sent_mail():
        response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    return User.objects.get(email=email)


def _link(message) -> str:
    return re.search(r"https?://[^/]+(/accounts/confirm/\S+/)", message.body).group(1)


def test_sign_up_sends_a_link_that_confirms_the_address(client, sent_mail, settings):
    settings.SITE_URL_SET, settings.SITE_URL = True, "https://skinsite.example.org"
    user = _sign_up(client, sent_mail)
    assert not user.email_confirmed and not account_can_send_email(user)
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert "https://skinsite.example.org/accounts/confirm/" in mail.outbox[0].body
    link = _link(mail.outbox[0])

    page = client.get(link)  # a mail scanner's GET confirms nothing
    assert page.status_code == 200 and "new@example.com" in page.content.decode()
    user.refresh_from_db()
    assert not user.email_confirmed

    assert client.post(link).status_code == 302
    user.refresh_from_db()
    assert user.email_confirmed and account_can_send_email(user)
    assert SecurityEvent.objects.filter(user=user, kind="email_confirmed").exists()


def test_a_forged_old_or_stale_link_confirms_nothing(client, alice, settings):
    alice.email_confirmed = False
    alice.save()
    token = confirmation_token(user=alice)
    assert client.post(f"/accounts/confirm/{token[:-2]}xx/").status_code == 400
    alice.email = "alice.new@example.com"  # the address changed since the link was sent
    alice.save()
    assert client.post(f"/accounts/confirm/{token}/").status_code == 400
    settings.EMAIL_CONFIRMATION_DAYS = 0
    assert client.post(f"/accounts/confirm/{confirmation_token(user=alice)}/").status_code == 400
    alice.refresh_from_db()
    assert not alice.email_confirmed


def test_the_account_page_says_unconfirmed_and_sends_a_new_link(client_alice, alice, sent_mail):
    User.objects.filter(pk=alice.pk).update(email_confirmed=False)
    assert 'id="email-unconfirmed"' in client_alice.get("/accounts/settings/").content.decode()
    with sent_mail():
        client_alice.post("/accounts/confirm-resend/")
    assert len(mail.outbox) == 1
    client_alice.post(_link(mail.outbox[0]))
    assert 'id="email-unconfirmed"' not in client_alice.get("/accounts/settings/").content.decode()


def test_the_api_sign_up_sends_the_link_too(sent_mail):
    from rest_framework.test import APIClient

    with sent_mail():
        answer = APIClient().post("/api/auth/register/", {"email": "app@example.com", "password": PASSWORD})
    assert answer.status_code == 201
    assert mail.outbox[0].to == ["app@example.com"]


def test_no_confirmation_mail_for_a_confirmed_or_deleted_account(alice):
    alice.email_confirmed = True
    alice.save()
    assert tasks.send_email_confirmation.apply(args=(alice.pk,)).get() is False
    assert tasks.send_email_confirmation.apply(args=(99999,)).get() is False
    assert mail.outbox == []


def test_an_inactive_account_cannot_send_email(alice):
    alice.email_confirmed, alice.is_active = True, False
    assert not account_can_send_email(alice)
