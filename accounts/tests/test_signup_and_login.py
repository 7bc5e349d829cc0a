"""Sign up, log in with an email address, log out, change and reset a password."""

import re

import pytest
from django.core import mail

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_signup_then_the_patient_logs_in(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "Carol@Example.com", "display_name": "Carol", "password1": PASSWORD, "password2": PASSWORD},
    )
    # Not logged in by the sign-up itself: a taken address gets this same answer (test_signup_enumeration).
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    user = User.objects.get()
    assert user.email == "carol@example.com" and user.display_name == "Carol"
    assert client.post("/accounts/login/", {"username": "carol@example.com", "password": PASSWORD}).status_code == 302
    assert client.get("/lesions/").status_code == 200


def test_signup_refuses_a_weak_password_and_makes_no_second_account(client, alice):
    weak = client.post("/accounts/signup/", {"email": "x@example.com", "password1": "1234", "password2": "1234"})
    assert weak.status_code == 200
    assert b"too short" in weak.content
    client.post("/accounts/signup/", {"email": "ALICE@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert User.objects.count() == 1


def test_login_with_email_in_any_case_and_logout(client, alice):
    response = client.post("/accounts/login/", {"username": "Alice@Example.COM", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/lesions/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/lesions/").status_code == 302


def test_password_change(client_alice, alice):
    response = client_alice.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "another-long-secret-7", "new_password2": "another-long-secret-7"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-long-secret-7")


def test_password_reset_by_email(client, alice, sent_mail):
    with sent_mail():
        client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"})
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("brand-new-secret-42")


def test_unknown_email_gets_the_same_answer_and_no_mail(client, db):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []
