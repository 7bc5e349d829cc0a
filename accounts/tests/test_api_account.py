"""The account over the API: read it, download everything as a ZIP, delete it with every file."""

import io
import json
import zipfile

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from conftest import PASSWORD, finish_analysis, jpeg_bytes, upload
from inference.models import Analysis
from lesions import services
from lesions.models import Lesion, Photo

pytestmark = pytest.mark.django_db


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_account_shows_who_is_logged_in(api_alice):
    body = api_alice.get("/api/account/").json()
    assert body["email"] == "alice@example.com"
    assert set(body) == {
        "id",
        "email",
        "display_name",
        "birth_year",
        "sex",
        "coin",
        "coin_other_mm",
        "coin_diameter_mm",
        "date_joined",
    }
    assert (body["birth_year"], body["sex"]) == (None, "")


def test_patch_changes_name_year_and_sex(api_alice, alice):
    response = api_alice.patch(
        "/api/account/", {"display_name": "Al", "birth_year": 1980, "sex": "female"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["birth_year"], response.json()["sex"]) == (1980, "female")
    alice.refresh_from_db()
    assert (alice.display_name, alice.birth_year, alice.sex) == ("Al", 1980, "female")
    assert api_alice.get("/api/account/").json()["display_name"] == "Al"


def test_patch_sends_only_what_changes_and_clears_with_null_or_empty(api_alice, alice):
    alice.birth_year, alice.sex = 1980, "male"
    alice.save()
    assert api_alice.patch("/api/account/", {"birth_year": None}, format="json").status_code == 200
    alice.refresh_from_db()
    assert (alice.display_name, alice.birth_year, alice.sex) == ("Alice", None, "male")
    assert api_alice.patch("/api/account/", {"sex": ""}, format="json").status_code == 200
    alice.refresh_from_db()
    assert alice.sex == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"birth_year": 1899}, "birth_year"),
        ({"birth_year": timezone.localdate().year + 1}, "birth_year"),
        ({"birth_year": -1}, "birth_year"),
        ({"birth_year": 10**9}, "birth_year"),
        ({"birth_year": "old"}, "birth_year"),
        ({"sex": "other"}, "sex"),
        ({"display_name": "x" * 101}, "display_name"),
    ],
)
def test_patch_refuses_bad_values_with_a_field_error_and_changes_nothing(api_alice, alice, body, field):
    response = api_alice.patch("/api/account/", {"display_name": "Changed", **body}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {field}
    alice.refresh_from_db()
    assert (alice.display_name, alice.birth_year, alice.sex) == ("Alice", None, "")


def test_an_out_of_range_year_says_the_range(api_alice):
    response = api_alice.patch("/api/account/", {"birth_year": 1850}, format="json")
    assert response.json() == {"birth_year": [f"Enter a year between 1900 and {timezone.localdate().year}."]}


def test_patch_cannot_change_the_email_or_join_date(api_alice, alice):
    joined = alice.date_joined
    response = api_alice.patch(
        "/api/account/", {"email": "mallory@example.com", "date_joined": "2000-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.email, alice.date_joined) == ("alice@example.com", joined)


def test_anonymous_visitors_cannot_patch(db):
    assert APIClient().patch("/api/account/", {"sex": "male"}, format="json").status_code == 401


def test_export_holds_every_lesion_photo_and_analysis_with_the_image_files(api_alice, alice, lesion, photo, settings):
    finish_analysis(photo, nv=0.9, mel=0.1)
    second = services.lesion_create(owner=alice, name="Right calf", body_site="lower extremity", notes="new")
    services.photo_create(lesion=second, upload=upload(jpeg_bytes(color=(90, 60, 50))))

    response = api_alice.get("/api/account/export/", HTTP_ACCEPT="application/zip")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="skinsite-export-')
    archive = _zip(response)
    assert {"README.txt", "account.json", "lesions.json"} <= set(archive.namelist())
    account = json.loads(archive.read("account.json"))
    assert account["email"] == "alice@example.com"
    assert (account["birth_year"], account["sex"]) == (None, None)
    lesions = {row["name"]: row for row in json.loads(archive.read("lesions.json"))}
    assert set(lesions) == {"Left shoulder", "Right calf"}
    assert lesions["Right calf"]["notes"] == "new"

    exported = lesions["Left shoulder"]["photos"][0]
    assert exported["id"] == photo.pk
    assert exported["analyses"][0]["status"] == "done"
    assert exported["analyses"][0]["probabilities"]["nv"] == pytest.approx(0.9)
    assert exported["analyses"][0]["predicted_class"] == "nv"
    # The stored (EXIF-free) JPEG itself, byte for byte.
    assert archive.read(exported["image"]) == (settings.MEDIA_ROOT / photo.image.name).read_bytes()
    assert lesions["Right calf"]["photos"][0]["analyses"][0]["status"] == "pending"
    assert len([n for n in archive.namelist() if n.startswith("photos/")]) == 2


def test_export_of_an_account_without_lesions_is_a_valid_zip(api_bob):
    archive = _zip(api_bob.get("/api/account/export/"))
    assert json.loads(archive.read("lesions.json")) == []


def test_bobs_export_holds_nothing_of_alices(api_bob, lesion, photo):
    archive = _zip(api_bob.get("/api/account/export/"))
    assert json.loads(archive.read("account.json"))["email"] == "bob@example.com"
    assert json.loads(archive.read("lesions.json")) == []
    assert not [n for n in archive.namelist() if n.startswith("photos/")]
    assert b"Left shoulder" not in b"".join(archive.read(n) for n in archive.namelist())


def test_anonymous_visitors_get_no_export_and_cannot_delete(db):
    assert APIClient().get("/api/account/export/").status_code == 401
    assert APIClient().delete("/api/account/", {"password": PASSWORD}, format="json").status_code == 401


def test_delete_needs_the_password_and_a_wrong_one_deletes_nothing(api_alice, alice, photo):
    response = api_alice.delete("/api/account/", {"password": "not-it"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()
    assert api_alice.delete("/api/account/").status_code == 400
    assert User.objects.filter(pk=alice.pk).exists()
    assert Photo.objects.filter(pk=photo.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_delete_removes_the_user_their_rows_tokens_and_files_and_nobody_elses(
    settings, alice, bob, django_capture_on_commit_callbacks
):
    # transaction=True: photo files leave storage only when the delete commits.
    alice_api, bob_api = APIClient(), APIClient()
    for api, email in ((alice_api, "alice@example.com"), (bob_api, "bob@example.com")):
        token = api.post("/api/auth/token/", {"email": email, "password": PASSWORD}, format="json").json()["token"]
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    with django_capture_on_commit_callbacks():  # swallow the analysis messages: no broker needed
        alice_photo = services.photo_create(
            lesion=services.lesion_create(owner=alice, name="A"), upload=upload(jpeg_bytes())
        )
        bob_photo = services.photo_create(
            lesion=services.lesion_create(owner=bob, name="B"), upload=upload(jpeg_bytes())
        )
    alice_files = [settings.MEDIA_ROOT / alice_photo.image.name, settings.MEDIA_ROOT / alice_photo.thumbnail.name]
    assert all(path.exists() for path in alice_files)

    response = alice_api.delete("/api/account/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not Lesion.objects.filter(owner_id=alice.pk).exists()
    assert not Analysis.objects.filter(photo_id=alice_photo.pk).exists()
    assert not ApiToken.objects.filter(user_id=alice.pk).exists()
    assert not any(path.exists() for path in alice_files)
    assert alice_api.get("/api/lesions/").status_code == 401  # her token died with her account
    assert (settings.MEDIA_ROOT / bob_photo.image.name).exists()
    assert bob_api.get(f"/api/photos/{bob_photo.pk}/").status_code == 200
