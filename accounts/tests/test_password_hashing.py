"""Passwords are stored with Argon2id; an older hash is rewritten at the next successful log-in."""

import pytest
from django.contrib.auth.hashers import make_password

from accounts.hashers import SkinsiteArgon2Hasher
from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _pbkdf2_user() -> User:
    user = User.objects.create_user(email="carol@example.com", password=None, email_confirmed=True)
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    return user


def test_a_new_password_is_stored_with_argon2id(alice):
    algorithm, variant, _version, params, *_ = alice.password.split("$")
    assert (algorithm, variant) == ("argon2", "argon2id")
    assert params == (
        f"m={SkinsiteArgon2Hasher.memory_cost},t={SkinsiteArgon2Hasher.time_cost},p={SkinsiteArgon2Hasher.parallelism}"
    )


def test_a_pbkdf2_hash_is_upgraded_at_the_next_web_log_in(client):
    user = _pbkdf2_user()
    response = client.post("/accounts/login/", {"username": "carol@example.com", "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


def test_a_pbkdf2_hash_is_upgraded_at_the_next_api_log_in(client):
    user = _pbkdf2_user()
    response = client.post("/api/auth/token/", {"email": "carol@example.com", "password": PASSWORD})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


def test_a_wrong_password_leaves_the_old_hash(client):
    user = _pbkdf2_user()
    before = user.password
    client.post("/accounts/login/", {"username": "carol@example.com", "password": "not-the-password-1"})
    user.refresh_from_db()
    assert user.password == before
