"""Sign-up does not say which addresses have accounts, on the web or the API: a new address and
a taken one get the same answer, and the owner of a taken one is told by email, with a link to
reset the password."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
OTHER_PASSWORD = "another-Good-pass-42"


def _web_sign_up(client, sent_mail, email: str, password: str = OTHER_PASSWORD):
    with sent_mail():
        response = client.post("/accounts/signup/", {"email": email, "password1": password, "password2": password})
    shown = [str(m).replace(email.lower(), "<email>") for m in get_messages(response.wsgi_request)]
    return response, shown


def test_the_web_answers_the_same_for_a_new_and_a_taken_address(alice, sent_mail):
    new_client, taken_client = Client(), Client()
    new, new_shown = _web_sign_up(new_client, sent_mail, "carol@example.com")
    taken, taken_shown = _web_sign_up(taken_client, sent_mail, "Alice@Example.com")
    assert "_auth_user_id" not in new_client.session and "_auth_user_id" not in taken_client.session
    assert (new.status_code, new["Location"]) == (taken.status_code, taken["Location"]) == (302, "/accounts/login/")
    assert new_shown == taken_shown and new_shown
    assert set(new.cookies) == set(taken.cookies)
    # The new account exists; the taken one is as it was.
    assert User.objects.filter(email="carol@example.com").exists()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_the_owner_of_a_taken_address_is_told_with_a_reset_link(client, alice, sent_mail):
    _web_sign_up(client, sent_mail, "alice@example.com")
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    body = mail.outbox[0].body
    assert "sign up" in body
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", body).group(1)
    form = client.get(link, follow=True)
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "brand-new-42-x", "new_password2": "brand-new-42-x"}
    )
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("brand-new-42-x")


def test_a_weak_password_is_refused_the_same_for_a_taken_address(client, alice, sent_mail):
    new, _ = _web_sign_up(client, sent_mail, "carol@example.com", "1234")
    taken, _ = _web_sign_up(client, sent_mail, "alice@example.com", "1234")
    assert new.status_code == taken.status_code == 200
    assert b"too short" in new.content and b"too short" in taken.content
    assert b"already" not in taken.content
    assert mail.outbox == []


def test_the_api_answers_the_same_for_a_new_and_a_taken_address(alice, sent_mail):
    api = APIClient()
    with sent_mail():
        new = api.post("/api/auth/register/", {"email": "Carol@Example.com", "password": OTHER_PASSWORD}, format="json")
        taken = api.post(
            "/api/auth/register/", {"email": "ALICE@example.com", "password": OTHER_PASSWORD}, format="json"
        )
    assert new.status_code == taken.status_code == 201
    assert new.json() == {"id": None, "email": "carol@example.com"}
    assert taken.json() == {"id": None, "email": "alice@example.com"}
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "carol@example.com"]
    notice = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert "/accounts/reset/" in notice.body
    # The new account logs in; alice's password did not change.
    assert api.post("/api/auth/token/", {"email": "carol@example.com", "password": OTHER_PASSWORD}).status_code == 200
    assert api.post("/api/auth/token/", {"email": "alice@example.com", "password": PASSWORD}).status_code == 200


def test_the_owner_is_not_flooded(alice, sent_mail, settings):
    settings.PASSWORD_RESET_THROTTLE = "2/hour"
    with sent_mail():
        answers = [
            APIClient()
            .post(
                "/api/auth/register/",
                {"email": "alice@example.com", "password": OTHER_PASSWORD},
                REMOTE_ADDR=f"10.0.0.{i}",
            )
            .status_code
            for i in range(4)
        ]
    assert answers == [201] * 4
    assert len(mail.outbox) == 2
