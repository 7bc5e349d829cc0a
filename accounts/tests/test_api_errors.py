"""Service errors reach API clients through the project's one exception handler
(skinsite.api.exception_handler), in the same shape as a serializer's: 400, messages by field."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_weak_password_answers_400_by_field(alice):
    client = APIClient()
    weak = client.post("/api/auth/register/", {"email": "new@example.com", "password": "1234"}, format="json")
    assert weak.status_code == 400
    assert list(weak.json()) == ["password"] and "too short" in weak.json()["password"][0]
    # The same for a taken address: whether it has an account is never said (test_signup_enumeration).
    taken = client.post("/api/auth/register/", {"email": "alice@example.com", "password": "1234"}, format="json")
    assert (taken.status_code, taken.json()) == (400, weak.json())


def test_a_profile_the_model_refuses_answers_400_by_field(api_alice):
    answer = api_alice.patch("/api/account/", {"sex": "martian"}, format="json")
    assert answer.status_code == 400
    assert "sex" in answer.json()
