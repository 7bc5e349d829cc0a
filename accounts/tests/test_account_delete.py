"""Deleting an account deletes the user's lesions, photos and the image files in storage."""

import pytest

from accounts.models import User
from conftest import PASSWORD, jpeg_bytes, upload
from inference.models import Analysis
from lesions import services
from lesions.models import Lesion, Photo


@pytest.mark.django_db(transaction=True)
def test_deleting_the_account_removes_rows_and_files(client, settings, django_capture_on_commit_callbacks):
    alice = User.objects.create_user(email="alice@example.com", password=PASSWORD)
    bob = User.objects.create_user(email="bob@example.com", password=PASSWORD)
    with django_capture_on_commit_callbacks():  # swallow the analysis messages: no broker needed
        alice_photo = services.photo_create(
            lesion=services.lesion_create(owner=alice, name="A"), upload=upload(jpeg_bytes())
        )
        bob_photo = services.photo_create(
            lesion=services.lesion_create(owner=bob, name="B"), upload=upload(jpeg_bytes())
        )
    alice_files = [settings.MEDIA_ROOT / alice_photo.image.name, settings.MEDIA_ROOT / alice_photo.thumbnail.name]
    bob_file = settings.MEDIA_ROOT / bob_photo.image.name
    assert all(p.exists() for p in alice_files)

    client.force_login(alice)
    wrong = client.post("/accounts/delete/", {"password": "not-it"})
    assert wrong.status_code == 200 and b"not your password" in wrong.content
    assert User.objects.filter(pk=alice.pk).exists()

    response = client.post("/accounts/delete/", {"password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not Lesion.objects.filter(owner_id=alice.pk).exists()
    assert not Photo.objects.filter(pk=alice_photo.pk).exists()
    assert not Analysis.objects.filter(photo_id=alice_photo.pk).exists()
    assert not any(p.exists() for p in alice_files)
    assert bob_file.exists()  # nobody else's files are touched
    assert client.get("/lesions/").status_code == 302  # logged out


@pytest.mark.django_db(transaction=True)
def test_deleting_a_lesion_removes_its_photo_files(client, settings, django_capture_on_commit_callbacks):
    alice = User.objects.create_user(email="alice@example.com", password=PASSWORD)
    with django_capture_on_commit_callbacks():
        lesion = services.lesion_create(owner=alice, name="A")
        photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    path = settings.MEDIA_ROOT / photo.image.name
    client.force_login(alice)
    assert client.post(f"/lesions/{lesion.pk}/delete/").status_code == 302
    assert not path.exists()
