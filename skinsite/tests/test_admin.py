"""Operators (superusers) can look at patient data in the admin, read-only; nobody can edit it there."""

import pytest

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

MODELS = (
    "lesions/lesion",
    "lesions/photo",
    "inference/analysis",
    "sharing/sharelink",
    "sharing/shareaccess",
    "sharing/physiciannote",
)


@pytest.fixture
def operator_client(client, verified_login):
    return verified_login(client, User.objects.create_superuser(email="ops@example.com", password=PASSWORD))


def test_superuser_can_list_patient_data_but_not_add_or_change_it(operator_client, photo):
    for model in MODELS:
        assert operator_client.get(f"/admin/{model}/").status_code == 200, model
        assert operator_client.get(f"/admin/{model}/add/").status_code == 403, model
    detail = operator_client.get(f"/admin/inference/analysis/{photo.analyses.get().pk}/change/")
    assert detail.status_code == 200
    assert b'type="submit" value="Save"' not in detail.content


def test_a_staff_user_without_permissions_sees_no_patient_data(client, photo, verified_login):
    verified_login(client, User.objects.create_user(email="staff@example.com", password=PASSWORD, is_staff=True))
    for model in MODELS:
        assert client.get(f"/admin/{model}/").status_code == 403, model
