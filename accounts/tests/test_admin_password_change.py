"""A password set by an operator in the admin logs every device out, as the user's own change does."""

import pytest
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import SecurityEvent, User

pytestmark = pytest.mark.django_db


def test_admin_password_change_revokes_the_users_tokens(client, alice, verified_login):
    _, key = tokens.token_create(user=alice, name="Alice's phone")
    phone = APIClient()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert phone.get("/api/account/").status_code == 200

    operator = User.objects.create_superuser(email="ops@example.com", password="x-operator-pass-1")
    verified_login(client, operator)
    new = "operator-Set-pass-77"
    response = client.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert phone.get("/api/account/").status_code == 401
    assert SecurityEvent.objects.filter(user=alice, kind="password_changed").exists()


def test_an_invalid_admin_password_form_revokes_nothing(client, alice, verified_login):
    tokens.token_create(user=alice, name="Alice's phone")
    verified_login(client, User.objects.create_superuser(email="ops@example.com", password="x-operator-pass-1"))
    response = client.post(f"/admin/accounts/user/{alice.pk}/password/", {"password1": "a", "password2": "b"})
    assert response.status_code == 200
    assert tokens.tokens_for_user(user=alice).count() == 1
