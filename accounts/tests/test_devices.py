"""A lost phone is cut off from the account page; a password change or reset logs out every device."""

import re

import pytest
from django.core import mail
from rest_framework.test import APIClient

from accounts import tokens
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _device(user, name: str) -> tuple[int, APIClient]:
    token, key = tokens.token_create(user=user, name=name)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return token.pk, api


def test_account_page_lists_devices_and_logs_one_out(client_alice, alice):
    phone_id, phone = _device(alice, "Alice's phone")
    _, tablet = _device(alice, "Tablet")
    page = client_alice.get("/accounts/settings/").content.decode()
    assert "Alice&#x27;s phone" in page and "Tablet" in page

    response = client_alice.post(f"/accounts/devices/{phone_id}/revoke/")
    assert response.status_code == 302
    assert phone.get("/api/lesions/").status_code == 401
    assert tablet.get("/api/lesions/").status_code == 200


def test_bob_cannot_log_out_alices_device(client, alice, bob):
    phone_id, phone = _device(alice, "Alice's phone")
    client.force_login(bob)
    assert client.post(f"/accounts/devices/{phone_id}/revoke/").status_code == 404
    assert client.get(f"/accounts/devices/{phone_id}/revoke/").status_code == 405
    assert phone.get("/api/lesions/").status_code == 200


def test_password_change_logs_out_every_device(client_alice, alice):
    _, phone = _device(alice, "phone")
    response = client_alice.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "another-long-secret-7", "new_password2": "another-long-secret-7"},
    )
    assert response.status_code == 302
    assert phone.get("/api/lesions/").status_code == 401
    assert client_alice.get("/lesions/").status_code == 200  # this browser session stays logged in


def test_password_reset_logs_out_every_device(client, alice, sent_mail):
    _, phone = _device(alice, "stolen phone")
    with sent_mail():
        client.post("/accounts/password_reset/", {"email": "alice@example.com"})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"})
    assert phone.get("/api/lesions/").status_code == 401
