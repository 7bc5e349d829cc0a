"""The REST contract that mobile clients and scripts rely on (paths and field names)."""

import pytest

from conftest import PASSWORD, finish_analysis, jpeg_bytes, upload
from lesions.models import Photo
from training.contract import CLASSES

pytestmark = pytest.mark.django_db


def test_register_then_token_then_authenticated_request(client):
    from rest_framework.test import APIClient

    api = APIClient()
    created = api.post("/api/auth/register/", {"email": "Carol@Example.com", "password": PASSWORD}, format="json")
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "email": "carol@example.com"}

    token = api.post("/api/auth/token/", {"email": "carol@example.com", "password": PASSWORD}, format="json")
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.get("/api/lesions/").status_code == 200


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "dave@example.com", "password": "123"}, "password"),
        ({"email": "dave@example.com", "password": "password"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
    ],
)
def test_register_refuses_weak_passwords_and_bad_emails(payload, field):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/auth/register/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_register_answers_a_taken_address_as_a_new_one(alice):
    from rest_framework.test import APIClient

    response = APIClient().post(
        "/api/auth/register/", {"email": "ALICE@example.com", "password": "another-Good-pass-42"}, format="json"
    )
    assert response.status_code == 201
    assert response.json() == {"id": None, "email": "alice@example.com"}


def test_token_refuses_a_wrong_password(alice):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/auth/token/", {"email": "alice@example.com", "password": "nope"}, format="json")
    assert response.status_code == 400


def test_anonymous_requests_are_refused(db):
    from rest_framework.test import APIClient

    for path in ("/api/lesions/", "/api/photos/1/", "/api/lesions/1/history/"):
        assert APIClient().get(path).status_code in (401, 403)


def test_lesion_crud(api_alice):
    created = api_alice.post(
        "/api/lesions/", {"name": "Mole on back", "body_site": "back", "notes": "since childhood"}, format="json"
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {
        "id",
        "name",
        "body_site",
        "map_view",
        "map_x",
        "map_y",
        "notes",
        "created_at",
        "photo_count",
        "latest_analysis",
        "advice",
    }
    assert body["photo_count"] == 0 and body["latest_analysis"] is None and body["advice"] is None
    assert body["map_view"] == "back"  # the back's centre on the body map

    lesion_id = body["id"]
    patched = api_alice.patch(f"/api/lesions/{lesion_id}/", {"body_site": "chest"}, format="json")
    assert patched.status_code == 200 and patched.json()["body_site"] == "chest"
    assert patched.json()["map_view"] == "front"  # a new site alone moves the dot to it
    assert [item["id"] for item in api_alice.get("/api/lesions/").json()["results"]] == [lesion_id]

    assert api_alice.patch(f"/api/lesions/{lesion_id}/", {"body_site": "moon"}, format="json").status_code == 400
    assert api_alice.delete(f"/api/lesions/{lesion_id}/").status_code == 204
    assert api_alice.get(f"/api/lesions/{lesion_id}/").status_code == 404


def test_photo_upload_answers_202_with_a_pending_analysis(api_alice, lesion, real_image_bytes):
    response = api_alice.post(
        f"/api/lesions/{lesion.pk}/photos/", {"image": upload(real_image_bytes)}, format="multipart"
    )
    assert response.status_code == 202
    body = response.json()
    assert {"id", "lesion", "taken_at", "image_url", "analysis"} <= set(body)
    assert body["lesion"] == lesion.pk
    assert body["analysis"]["status"] == "pending"
    assert body["analysis"]["probabilities"] is None

    image = api_alice.get(body["image_url"])
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert b"".join(image.streaming_content)[:2] == b"\xff\xd8"


def test_photo_detail_and_history_show_probabilities_in_taken_at_order(api_alice, lesion):
    first = api_alice.post(
        f"/api/lesions/{lesion.pk}/photos/",
        {"image": upload(jpeg_bytes()), "taken_at": "2024-03-01T10:00:00Z"},
        format="multipart",
    ).json()
    second = api_alice.post(
        f"/api/lesions/{lesion.pk}/photos/",
        {"image": upload(jpeg_bytes(color=(90, 60, 50))), "taken_at": "2024-01-01T10:00:00Z"},
        format="multipart",
    ).json()
    finish_analysis(Photo.objects.get(pk=first["id"]), nv=0.7, mel=0.2, bkl=0.1)

    detail = api_alice.get(f"/api/photos/{first['id']}/").json()
    analysis = detail["analysis"]
    assert set(analysis) >= {"status", "probabilities", "predicted_class", "malignant_probability", "model_version"}
    assert set(analysis["probabilities"]) == set(CLASSES)
    assert analysis["predicted_class"] == "nv"
    assert analysis["malignant_probability"] == pytest.approx(0.2)

    history = api_alice.get(f"/api/lesions/{lesion.pk}/history/").json()["results"]
    assert [h["photo_id"] for h in history] == [second["id"], first["id"]]
    assert [h["analysis"]["status"] for h in history] == ["pending", "done"]

    lesion_body = api_alice.get(f"/api/lesions/{lesion.pk}/").json()
    assert lesion_body["photo_count"] == 2
    assert lesion_body["latest_analysis"]["status"] == "done"  # the March photo is the latest taken


def test_photo_taken_at_can_be_corrected_and_photo_deleted(api_alice, photo, settings):
    response = api_alice.patch(f"/api/photos/{photo.pk}/", {"taken_at": "2022-06-01T08:00:00Z"}, format="json")
    assert response.status_code == 200
    assert response.json()["taken_at"].startswith("2022-06-01")
    assert (
        api_alice.patch(f"/api/photos/{photo.pk}/", {"taken_at": "2999-01-01T00:00:00Z"}, format="json").status_code
        == 400
    )

    path = settings.MEDIA_ROOT / photo.image.name
    assert path.exists()
    assert api_alice.delete(f"/api/photos/{photo.pk}/").status_code == 204
    assert api_alice.get(f"/api/photos/{photo.pk}/").status_code == 404
