"""The forms that give a photo its size in mm: two points marked by hand, the coin in the photo, the
upload's hints, the dermatoscope set-up and the account's coin. Each is a plain form post."""

import pytest

from conftest import jpeg_bytes, upload
from lesions import services
from lesions.models import Dermatoscope, Photo
from lesions.tests.test_size_pages import sized
from measurement.scale import manual_scale
from measurement.size import lesion_size

pytestmark = pytest.mark.django_db

POINTS = {"x1": "20", "y1": "50", "x2": "70", "y2": "50"}


@pytest.fixture
def unscaled(lesion, real_image_bytes):
    """Alice's photo, analysed and outlined, with no coin, card or ruler found."""
    photo = services.photo_create(lesion=lesion, upload=upload(real_image_bytes))
    sized(photo, long_mm=None, reason="no_reference")
    return photo


def test_two_points_and_a_length_measure_the_lesion_again(client_alice, unscaled, measured_again):
    old_size = unscaled.analyses.get().measures["size"]
    response = client_alice.post(
        f"/lesions/photos/{unscaled.pk}/scale/", {**POINTS, "length": "other", "distance_mm": "10"}
    )
    assert response.status_code == 302 and response["Location"] == f"/lesions/photos/{unscaled.pk}/#size-result"
    # The worker has not measured it yet: the page says so, and awaits it, instead of the old "no size".
    photo = Photo.objects.get(pk=unscaled.pk)
    assert photo.analyses.get().measures["size"] == old_size
    page = client_alice.get(f"/lesions/photos/{unscaled.pk}/").content.decode()
    assert "Measuring the size again" in page and f'data-awaiting-photo="{unscaled.pk}"' in page
    assert "No size in mm." not in page
    assert "Skinsite is measuring the size again from your two points." in page  # the form's message

    with measured_again():  # the same post, its measuring run as the worker runs it
        response = client_alice.post(
            f"/lesions/photos/{unscaled.pk}/scale/", {**POINTS, "length": "other", "distance_mm": "10"}
        )
    assert response.status_code == 302 and response["Location"] == f"/lesions/photos/{unscaled.pk}/#size-result"
    photo = Photo.objects.get(pk=unscaled.pk)
    assert photo.manual_scale == {"points": [[0.2, 0.5], [0.7, 0.5]], "distance_mm": 10.0}
    # The outline (found again, as the worker finds it) at the marked scale: half the width is 10 mm.
    measures = photo.analyses.get().measures
    expected = lesion_size(
        measures["outline"],
        width=photo.width,
        height=photo.height,
        scale=manual_scale([[0.2, 0.5], [0.7, 0.5]], 10, width=photo.width, height=photo.height),
    )
    size = measures["size"]
    assert size["ok"] and size["scale"]["mm_per_pixel"] == pytest.approx(10 / (0.5 * photo.width))
    assert size["long_mm"] == pytest.approx(expected["long_mm"])
    page = client_alice.get(f"/lesions/photos/{unscaled.pk}/").content.decode()
    assert f"Size: {size['long_mm']:.1f} mm across" in page and "Measured from the two points you marked." in page
    assert "Remove my two points" in page and "Measuring the size again" not in page
    assert f'data-awaiting-photo="{unscaled.pk}"' not in page

    with measured_again():
        client_alice.post(f"/lesions/photos/{unscaled.pk}/scale/clear/")
    photo = Photo.objects.get(pk=unscaled.pk)
    assert photo.manual_scale is None and not photo.analyses.get().measures["size"]["ok"]


def test_the_length_can_be_a_coin_or_a_card(client_alice, unscaled):
    client_alice.post(f"/lesions/photos/{unscaled.pk}/scale/", {**POINTS, "length": "eur_1"})
    assert Photo.objects.get(pk=unscaled.pk).manual_scale["distance_mm"] == 23.25
    client_alice.post(f"/lesions/photos/{unscaled.pk}/scale/", {**POINTS, "length": "card"})
    assert Photo.objects.get(pk=unscaled.pk).manual_scale["distance_mm"] == 85.6


def test_another_length_needs_its_mm(client_alice, unscaled):
    response = client_alice.post(f"/lesions/photos/{unscaled.pk}/scale/", {**POINTS, "length": "other"})
    assert response.status_code == 400
    assert "Type the length between the two points in mm." in response.content.decode()
    assert Photo.objects.get(pk=unscaled.pk).manual_scale is None


def test_points_on_top_of_each_other_are_refused_with_the_reason(client_alice, unscaled):
    same = {"x1": "50", "y1": "50", "x2": "50.5", "y2": "50", "length": "other", "distance_mm": "10"}
    response = client_alice.post(f"/lesions/photos/{unscaled.pk}/scale/", same)
    assert response.status_code == 400
    assert Photo.objects.get(pk=unscaled.pk).manual_scale is None


def test_another_patient_cannot_mark_or_pick_a_coin(client, bob, unscaled):
    client.force_login(bob)
    data = {**POINTS, "length": "other", "distance_mm": "10"}
    assert client.post(f"/lesions/photos/{unscaled.pk}/scale/", data).status_code == 404
    assert client.post(f"/lesions/photos/{unscaled.pk}/coin/", {"coin": "eur_1"}).status_code == 404
    assert client.post(f"/lesions/photos/{unscaled.pk}/scale/clear/").status_code == 404
    photo = Photo.objects.get(pk=unscaled.pk)
    assert photo.manual_scale is None and photo.coin_diameter_mm is None


def test_picking_the_coin_in_the_photo(client_alice, unscaled):
    response = client_alice.post(f"/lesions/photos/{unscaled.pk}/coin/", {"coin": "gbp_2"})
    assert response.status_code == 302
    assert Photo.objects.get(pk=unscaled.pk).coin_diameter_mm == 28.40


def test_the_upload_says_a_coin_is_in_the_photo(client_alice, alice, lesion, real_image_bytes):
    def post(**hints):
        data = {"image": upload(real_image_bytes), **hints}
        return client_alice.post(f"/lesions/{lesion.pk}/photos/", data)

    assert post(reference_in_photo="on", coin="eur_2").status_code == 302
    assert lesion.photos.latest("id").coin_diameter_mm == 25.75
    assert post(reference_in_photo="on", coin="other", coin_diameter_mm="21.5").status_code == 302
    assert lesion.photos.latest("id").coin_diameter_mm == 21.5
    assert post(reference_in_photo="on", coin="card").status_code == 302  # a card is found without a coin
    assert lesion.photos.latest("id").coin_diameter_mm is None
    # "My coin" before one is chosen: the page says where to choose it, and nothing is stored.
    count = lesion.photos.count()
    response = post(reference_in_photo="on", coin="")
    assert response.status_code == 400 and "Choose it in your settings" in response.content.decode()
    assert lesion.photos.count() == count
    alice.coin = "usd_25c"
    alice.save()
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "My coin: US quarter (25 cents)" in page
    assert post(reference_in_photo="on", coin="mine").status_code == 302
    assert lesion.photos.latest("id").coin_diameter_mm == 24.26


def test_the_account_keeps_the_patients_coin(client_alice, alice):
    page = client_alice.get("/accounts/settings/").content.decode()
    assert 'id="size-coin"' in page and "1 euro (23.25 mm)" in page
    client_alice.post("/accounts/settings/", {"display_name": "Alice", "coin": "chf_1"})
    alice.refresh_from_db()
    assert alice.coin == "chf_1" and alice.coin_diameter_mm == 23.2
    client_alice.post("/accounts/settings/", {"display_name": "Alice", "coin": "other", "coin_other_mm": "26"})
    alice.refresh_from_db()
    assert alice.coin == "other" and alice.coin_diameter_mm == 26
    response = client_alice.post("/accounts/settings/", {"display_name": "Alice", "coin": "other"})
    assert response.status_code == 200 and "Give the size of your coin in mm" in response.content.decode()


def test_a_dermatoscope_is_set_up_from_a_ruler_photo_and_set_up_again(client_alice, alice, bob):
    ruler = {"name": "Clip-on lens", "x1": "10", "y1": "50", "x2": "60", "y2": "50", "distance_mm": "10"}
    response = client_alice.post("/lesions/dermatoscopes/", {**ruler, "image": upload(jpeg_bytes(size=(400, 300)))})
    assert response.status_code == 302, response.content.decode()[:2000]
    device = Dermatoscope.objects.get(owner=alice)
    assert device.mm_per_pixel == pytest.approx(10 / 200)  # 50 % of 400 px is 10 mm
    page = client_alice.get("/lesions/dermatoscopes/").content.decode()
    assert "Clip-on lens" in page and f"?again={device.pk}" in page
    assert 'value="Clip-on lens"' in client_alice.get(f"/lesions/dermatoscopes/?again={device.pk}").content.decode()
    client_alice.post(
        "/lesions/dermatoscopes/", {**ruler, "distance_mm": "5", "image": upload(jpeg_bytes(size=(400, 300)))}
    )
    assert Dermatoscope.objects.get(owner=alice).mm_per_pixel == pytest.approx(5 / 200)  # the same one, again
    # Bob sees none of alice's, and cannot choose it for his uploads.
    client_alice.logout()
    client_alice.force_login(bob)
    assert "Clip-on lens" not in client_alice.get("/lesions/dermatoscopes/").content.decode()


def test_the_upload_takes_the_dermatoscope(client_alice, alice, lesion, real_image_bytes):
    device = Dermatoscope.objects.create(
        owner=alice,
        name="Clip-on lens",
        mm_per_pixel=0.01,
        relative_uncertainty=0.02,
        calibrated_width=400,
        calibrated_at="2026-01-01T00:00:00Z",
    )
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "Taken through a dermatoscope?" in page
    response = client_alice.post(
        f"/lesions/{lesion.pk}/photos/", {"image": upload(real_image_bytes), "device": device.pk}
    )
    assert response.status_code == 302
    assert lesion.photos.latest("id").device == device


def test_a_dermatoscope_is_set_up_from_a_stored_photo_of_the_patient_only(client, alice, bob, lesion, unscaled):
    ruler = {"name": "Clip-on lens", "x1": "10", "y1": "50", "x2": "60", "y2": "50", "distance_mm": "10"}
    client.force_login(bob)
    response = client.post("/lesions/dermatoscopes/", {**ruler, "stored_photo": unscaled.pk})
    assert response.status_code == 400 and not Dermatoscope.objects.exists()  # alice's photo is no choice for bob
    client.force_login(alice)
    page = client.get("/lesions/dermatoscopes/").content.decode()
    assert f'<option value="{unscaled.pk}">Left shoulder, ' in page
    response = client.post("/lesions/dermatoscopes/", {**ruler, "stored_photo": unscaled.pk})
    assert response.status_code == 302
    device = Dermatoscope.objects.get(owner=alice)
    assert device.mm_per_pixel == pytest.approx(10 / (0.5 * unscaled.width))


def test_the_photo_page_says_which_dermatoscope_took_it(client_alice, client, alice, bob, unscaled, measured_again):
    def device(owner, name):
        return Dermatoscope.objects.create(
            owner=owner,
            name=name,
            mm_per_pixel=0.01,
            relative_uncertainty=0.02,
            calibrated_width=unscaled.width,
            calibrated_at="2026-01-01T00:00:00Z",
        )

    assert "Taken through a dermatoscope?" not in client_alice.get(f"/lesions/photos/{unscaled.pk}/").content.decode()
    mine, bobs = device(alice, "Clip-on lens"), device(bob, "Bob's lens")
    page = client_alice.get(f"/lesions/photos/{unscaled.pk}/").content.decode()
    assert "Taken through a dermatoscope?" in page and "Bob's lens" not in page
    assert client_alice.post(f"/lesions/photos/{unscaled.pk}/device/", {"device": bobs.pk}).status_code == 400
    with measured_again():
        response = client_alice.post(f"/lesions/photos/{unscaled.pk}/device/", {"device": mine.pk})
    assert response.status_code == 302 and response["Location"].endswith("#size-result")
    photo = Photo.objects.get(pk=unscaled.pk)
    assert photo.device == mine
    size = photo.analyses.get().measures["size"]
    assert size["ok"] and size["scale"]["source"] == "device"
    page = client_alice.get(f"/lesions/photos/{unscaled.pk}/").content.decode()
    assert "Measured with your dermatoscope “Clip-on lens”, from its set-up photo." in page
    client.force_login(bob)
    assert client.post(f"/lesions/photos/{unscaled.pk}/device/", {"device": ""}).status_code == 404
    assert Photo.objects.get(pk=unscaled.pk).device == mine
