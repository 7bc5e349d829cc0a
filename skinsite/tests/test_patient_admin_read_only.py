"""The operators' admin shows patient data read-only: no add, change or delete, for anyone."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.models import User
from lesions.models import Photo

pytestmark = pytest.mark.django_db
PATIENT_DATA_APPS = {"lesions", "inference", "sharing"}


@pytest.fixture
def operator(db):
    return User.objects.create_superuser(email="ops@example.com", password="x-operator-pass-1")


def test_no_patient_data_admin_allows_deleting(operator):
    request = RequestFactory().get("/admin/")
    request.user = operator
    patient_admins = [ma for model, ma in admin.site._registry.items() if model._meta.app_label in PATIENT_DATA_APPS]
    assert patient_admins
    for model_admin in patient_admins:
        assert not model_admin.has_delete_permission(request), type(model_admin).__name__
        assert "delete_selected" not in model_admin.get_actions(request), type(model_admin).__name__


def test_a_superuser_cannot_delete_a_photo_in_the_admin(client, operator, photo, verified_login):
    verified_login(client, operator)
    url = f"/admin/lesions/photo/{photo.pk}/delete/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    client.post("/admin/lesions/photo/", {"action": "delete_selected", "_selected_action": [photo.pk], "post": "yes"})
    assert Photo.objects.filter(pk=photo.pk).exists()
    assert photo.image.storage.exists(photo.image.name)
