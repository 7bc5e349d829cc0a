"""Sizes in mm over the API: the coin on the account and at upload, a photo's scale, dermatoscopes, the
size on photos and analyses, and in the data export."""

import io
import json
import zipfile

import pytest
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, lesion_image, upload
from inference import measuring
from lesions.models import Dermatoscope, Photo
from lesions.tests.test_size_services import _ruler_jpeg
from training.contract import open_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def measured_photo(done_photo):
    analysis = finish_analysis(done_photo)
    with done_photo.image.open("rb") as fh:
        analysis.measures = measuring.photo_measures(open_image(fh))
    analysis.save(update_fields=["measures"])
    return done_photo


def _scale_body(photo, pixels=100, distance_mm=5.0):
    return {"points": [[0.05, 0.05], [0.05 + pixels / photo.width, 0.05]], "distance_mm": distance_mm}


def test_the_account_keeps_the_patients_coin(api_alice):
    assert api_alice.get("/api/account/").json()["coin"] == ""
    chosen = api_alice.patch("/api/account/", {"coin": "eur_2"}, format="json")
    assert chosen.status_code == 200, chosen.content
    assert chosen.json()["coin"] == "eur_2" and chosen.json()["coin_diameter_mm"] == 25.75

    other = api_alice.patch("/api/account/", {"coin": "other", "coin_other_mm": 22.5}, format="json")
    assert other.json()["coin_diameter_mm"] == 22.5
    missing = api_alice.patch("/api/account/", {"coin": "other", "coin_other_mm": None}, format="json")
    assert missing.status_code == 400 and "coin_other_mm" in missing.json()
    unknown = api_alice.patch("/api/account/", {"coin": "doubloon"}, format="json")
    assert unknown.status_code == 400 and "coin" in unknown.json()
    assert api_alice.get("/api/account/").json()["coin_diameter_mm"] == 22.5


def test_an_upload_with_the_patients_coin_stores_its_diameter(api_alice, alice, lesion):
    url = f"/api/lesions/{lesion.pk}/photos/"
    refused = api_alice.post(url, {"image": upload(jpeg_bytes()), "coin": "mine"}, format="multipart")
    assert refused.status_code == 400 and "settings" in refused.json()["coin"][0]
    assert not Photo.objects.exists()

    api_alice.patch("/api/account/", {"coin": "gbp_1"}, format="json")
    stored = api_alice.post(url, {"image": upload(jpeg_bytes()), "coin": "mine"}, format="multipart")
    assert stored.status_code == 202, stored.content
    body = stored.json()
    assert body["coin_diameter_mm"] == 23.43 and body["device"] is None and body["manual_scale"] is None
    assert body["size"] is None and body["analysis"]["size"] is None  # pending: not measured yet


def test_an_upload_names_one_of_the_patients_own_dermatoscopes(api_alice, alice, bob, lesion):
    mine, bobs = (
        Dermatoscope.objects.create(
            owner=owner,
            name="DermLite",
            mm_per_pixel=0.01,
            relative_uncertainty=0.02,
            calibrated_width=1000,
            calibrated_at=timezone.now(),
        )
        for owner in (alice, bob)
    )
    url = f"/api/lesions/{lesion.pk}/photos/"
    foreign = api_alice.post(url, {"image": upload(jpeg_bytes()), "device": bobs.pk}, format="multipart")
    assert foreign.status_code == 400 and "device" in foreign.json()
    stored = api_alice.post(url, {"image": upload(jpeg_bytes()), "device": mine.pk}, format="multipart")
    assert stored.status_code == 202 and stored.json()["device"] == mine.pk


def test_a_scale_posted_for_a_photo_answers_its_size_in_mm(api_alice, api_bob, measured_photo, measured_again):
    url = f"/api/photos/{measured_photo.pk}/scale/"
    assert api_bob.post(url, _scale_body(measured_photo), format="json").status_code == 404

    with measured_again():
        response = api_alice.post(url, _scale_body(measured_photo), format="json")
        # The worker measures it once the request has committed: the answer says so, with the size from
        # before (none: measured before sizes were).
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["manual_scale"] == _scale_body(measured_photo)
        assert body["size_measuring"] is True and body["analysis"]["size_measuring"] is True
        assert body["size"] is None
    body = api_alice.get(f"/api/photos/{measured_photo.pk}/").json()
    assert body["size_measuring"] is False and body["analysis"]["size_error"] == ""
    size = body["size"]
    assert size == body["analysis"]["size"]
    assert size["ok"] is True and size["scale"]["source"] == "manual"
    assert size["scale"]["mm_per_pixel"] == pytest.approx(0.05)
    assert size["long_mm"] > 0 and size["long_mm_error"] > 0
    assert set(size) >= {"short_mm", "short_mm_error", "area_mm2", "area_mm2_error", "wider_than_6mm", "reason_text"}
    assert api_alice.get(f"/api/photos/{measured_photo.pk}/").json()["size"] == size

    with measured_again():
        cleared = api_alice.delete(url)
    assert cleared.status_code == 200 and cleared.json()["manual_scale"] is None
    assert cleared.json()["size_measuring"] is True
    size = api_alice.get(f"/api/photos/{measured_photo.pk}/").json()["size"]
    assert size["ok"] is False and size["reason"] == "no_reference"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"points": [[0.1, 0.1]], "distance_mm": 5}, "points"),
        ({"points": [[0.1, 0.1], [0.1001, 0.1]], "distance_mm": 5}, "points"),
        ({"points": [[0.1, 0.1], [0.5, 0.1]]}, "distance_mm"),
        ({"coin": "doubloon"}, "coin"),
        ({"coin": "other"}, "coin_diameter_mm"),
    ],
)
def test_a_scale_that_cannot_be_used_answers_400_by_field(api_alice, measured_photo, body, field):
    response = api_alice.post(f"/api/photos/{measured_photo.pk}/scale/", body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_the_coin_can_be_picked_for_a_photo_later(api_alice, measured_photo, measured_again):
    with measured_again():
        response = api_alice.post(f"/api/photos/{measured_photo.pk}/scale/", {"coin": "usd_1c"}, format="json")
    assert response.status_code == 200
    assert response.json()["coin_diameter_mm"] == 19.05
    size = api_alice.get(f"/api/photos/{measured_photo.pk}/").json()["size"]
    assert size["reason"] == "no_reference"  # no coin in this dermoscopy photo


def test_dermatoscopes_are_calibrated_listed_and_calibrated_again(api_alice, api_bob):
    points = json.dumps([[40 / 800, 0.2], [640 / 800, 0.2]])
    created = api_alice.post(
        "/api/dermatoscopes/",
        {"name": "DermLite", "image": upload(_ruler_jpeg()), "points": points, "distance_mm": 50},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    device = created.json()
    assert device["name"] == "DermLite" and device["calibrated_width"] == 800
    assert device["mm_per_pixel"] == pytest.approx(50 / 600)

    listed = api_alice.get("/api/dermatoscopes/").json()
    assert [d["id"] for d in listed["results"]] == [device["id"]]
    assert api_bob.get("/api/dermatoscopes/").json()["results"] == []
    assert api_bob.get(f"/api/dermatoscopes/{device['id']}/").status_code == 404

    url = f"/api/dermatoscopes/{device['id']}/calibrate/"
    foreign = api_bob.post(url, {"image": upload(_ruler_jpeg()), "points": points, "distance_mm": 40}, "multipart")
    assert foreign.status_code == 404
    again = api_alice.post(url, {"image": upload(_ruler_jpeg()), "points": points, "distance_mm": 40}, "multipart")
    assert again.status_code == 200, again.content
    assert again.json()["id"] == device["id"] and again.json()["mm_per_pixel"] == pytest.approx(40 / 600)


def test_calibrating_without_a_ruler_answers_400_with_what_to_do(api_alice):
    response = api_alice.post(
        "/api/dermatoscopes/", {"name": "DermLite", "image": upload(jpeg_bytes((400, 300)))}, format="multipart"
    )
    assert response.status_code == 400
    assert "ruler" in response.json()["non_field_errors"][0]
    assert not Dermatoscope.objects.exists()


def test_the_export_holds_the_sizes_coins_and_dermatoscopes(api_alice, alice, measured_photo, measured_again):
    api_alice.patch("/api/account/", {"coin": "chf_1"}, format="json")
    with measured_again():
        api_alice.post(f"/api/photos/{measured_photo.pk}/scale/", {"coin": "mine"}, format="json")
        api_alice.post(f"/api/photos/{measured_photo.pk}/scale/", _scale_body(measured_photo), format="json")
    Dermatoscope.objects.create(
        owner=alice,
        name="DermLite",
        mm_per_pixel=0.01,
        relative_uncertainty=0.02,
        calibrated_width=1000,
        calibrated_at=timezone.now(),
    )
    response = api_alice.get("/api/account/export/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    account = json.loads(archive.read("account.json"))
    assert account["coin"] == "chf_1" and account["coin_diameter_mm"] == 23.2
    assert [d["name"] for d in account["dermatoscopes"]] == ["DermLite"]
    photo = json.loads(archive.read("lesions.json"))[0]["photos"][0]
    assert photo["coin_diameter_mm"] == 23.2 and photo["manual_scale"] == _scale_body(measured_photo)
    size = photo["analyses"][0]["size"]
    assert size["ok"] and size["long_mm"] > 0 and size["scale"]["source"] == "manual"


def test_a_photo_without_a_coin_says_why_it_has_no_size(api_alice, lesion):
    photo = Photo.objects.get(
        pk=api_alice.post(
            f"/api/lesions/{lesion.pk}/photos/", {"image": upload(lesion_image("ISIC_0024314.jpg"))}, "multipart"
        ).json()["id"]
    )
    analysis = finish_analysis(photo)
    analysis.measures = {"ok": True, "outline": [], "size": measuring.photo_size_refused("no_reference")}
    analysis.save()
    size = api_alice.get(f"/api/photos/{photo.pk}/").json()["analysis"]["size"]
    assert size["ok"] is False and size["reason"] == "no_reference" and "coin" in size["reason_text"]
    assert size["long_mm"] is None


def test_the_compare_answer_has_both_sizes_and_the_growth_in_mm(api_alice, alice, pair, measured_again):
    first, later = pair
    for photo in (first, later):
        analysis = photo.analyses.get()
        with photo.image.open("rb") as fh:
            analysis.measures = measuring.photo_measures(open_image(fh))
        analysis.save(update_fields=["measures"])
        with measured_again():
            api_alice.post(f"/api/photos/{photo.pk}/scale/", _scale_body(photo, distance_mm=2.0), format="json")
    body = api_alice.get(f"/api/lesions/{first.lesion_id}/compare/?a={first.pk}&b={later.pk}").json()
    assert body["earlier"]["size"]["ok"] and body["later"]["size"]["ok"]
    assert body["growth_mm"] == pytest.approx(
        body["later"]["size"]["long_mm"] - body["earlier"]["size"]["long_mm"], abs=0.01
    )
    assert body["growth_mm"] > 0
