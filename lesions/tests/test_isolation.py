"""One user never sees another's data: bob gets 404 on everything of alice's."""

import pytest

from conftest import jpeg_bytes, upload
from lesions.models import Lesion, Photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


def test_bob_cannot_read_or_change_alices_data_through_the_api(api_bob, lesion, photo):
    for path in (
        f"/api/lesions/{lesion.pk}/",
        f"/api/lesions/{lesion.pk}/history/",
        f"/api/lesions/{lesion.pk}/photos/",
        f"/api/photos/{photo.pk}/",
        f"/api/photos/{photo.pk}/image/",
        f"/api/photos/{photo.pk}/thumbnail/",
    ):
        assert api_bob.get(path).status_code == 404, path
    assert api_bob.get("/api/lesions/").json()["results"] == []
    assert api_bob.patch(f"/api/lesions/{lesion.pk}/", {"name": "mine"}, format="json").status_code == 404
    assert api_bob.delete(f"/api/lesions/{lesion.pk}/").status_code == 404
    assert (
        api_bob.patch(f"/api/photos/{photo.pk}/", {"taken_at": "2020-01-01T00:00:00Z"}, format="json").status_code
        == 404
    )
    assert api_bob.delete(f"/api/photos/{photo.pk}/").status_code == 404
    upload_response = api_bob.post(
        f"/api/lesions/{lesion.pk}/photos/", {"image": upload(jpeg_bytes())}, format="multipart"
    )
    assert upload_response.status_code == 404
    assert Lesion.objects.get(pk=lesion.pk).name == "Left shoulder"
    assert Photo.objects.filter(lesion=lesion).count() == 1


def test_bob_cannot_reach_alices_pages_or_image_bytes(bob_client, lesion, photo):
    for path in (
        f"/lesions/{lesion.pk}/",
        f"/lesions/{lesion.pk}/timeline/",
        f"/lesions/{lesion.pk}/edit/",
        f"/lesions/{lesion.pk}/delete/",
        f"/lesions/photos/{photo.pk}/",
        f"/lesions/photos/{photo.pk}/image/",
        f"/lesions/photos/{photo.pk}/thumbnail/",
        f"/lesions/photos/{photo.pk}/delete/",
    ):
        assert bob_client.get(path).status_code == 404, path
    assert bob_client.post(f"/lesions/{lesion.pk}/delete/").status_code == 404
    assert bob_client.post(f"/lesions/{lesion.pk}/photos/", {"image": upload(jpeg_bytes())}).status_code == 404
    assert b"Left shoulder" not in bob_client.get("/lesions/").content
    assert Photo.objects.filter(pk=photo.pk).exists()


def test_anonymous_visitors_are_sent_to_log_in_and_never_get_image_bytes(client, photo):
    response = client.get(f"/lesions/photos/{photo.pk}/image/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_photo_files_are_not_under_a_public_url(client, photo, settings):
    # The storage key exists on disk but no URL serves the media folder.
    assert client.get(f"/media/{photo.image.name}").status_code == 404
    assert client.get(f"{settings.MEDIA_URL}{photo.image.name}").status_code == 404
