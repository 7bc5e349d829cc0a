"""A dermatoscope set up again: the photos taken with it whose size it gave are measured again with its new
calibration (by the worker, here run eagerly after commit); photos sized by a coin, card, ruler or marked
points keep their size, and another patient's photos are never touched. Its page says how many are being
measured again.
"""

import pytest
from django.utils import timezone

from conftest import upload
from lesions import selectors, services
from lesions.models import Dermatoscope, Photo
from lesions.tests.test_size_pages import sized
from lesions.tests.test_size_services import _ruler_jpeg

pytestmark = pytest.mark.django_db

# 50 mm over 600 px of the 800 px ruler photo (test_size_services._ruler_jpeg): the new calibration.
RULER_POINTS = [[40 / 800, 0.2], [640 / 800, 0.2]]
NEW_MM_PER_PIXEL = 50.0 / 600


def _device(owner, name: str, mm_per_pixel: float = 0.02) -> Dermatoscope:
    return Dermatoscope.objects.create(
        owner=owner,
        name=name,
        mm_per_pixel=mm_per_pixel,
        relative_uncertainty=0.03,
        calibrated_width=600,
        calibrated_at=timezone.now(),
    )


def _photo(lesion, image: bytes, *, device: Dermatoscope, source: str, **fields) -> Photo:
    """A photo taken with `device`, analysed, whose size (6 mm) came from `source`."""
    photo = services.photo_create(lesion=lesion, upload=upload(image))
    # Straight on the row: a photo of bob's "taken with" alice's dermatoscope is what no service allows,
    # and what the re-measuring must leave alone all the same.
    Photo.objects.filter(pk=photo.pk).update(device=device, **fields)
    photo.refresh_from_db()
    sized(photo, long_mm=6.0, source=source)
    return photo


def _size(photo: Photo) -> dict:
    return photo.analyses.get().measures["size"]


@pytest.fixture
def photos(alice, bob, lesion, real_image_bytes):
    lens, other_lens = _device(alice, "Clip-on lens"), _device(alice, "Other lens")
    bobs_lesion = services.lesion_create(owner=bob, name="Bob's mole", body_site="back")
    marked = {"points": [[0.1, 0.5], [0.6, 0.5]], "distance_mm": 5.0}
    return {
        "lens": lens,
        "device": _photo(lesion, real_image_bytes, device=lens, source="device"),
        "manual": _photo(lesion, real_image_bytes, device=lens, source="manual", manual_scale=marked),
        "coin": _photo(lesion, real_image_bytes, device=lens, source="coin", coin_diameter_mm=23.25),
        "other_lens": _photo(lesion, real_image_bytes, device=other_lens, source="device"),
        "bobs": _photo(bobs_lesion, real_image_bytes, device=lens, source="device"),
    }


def test_setting_a_dermatoscope_up_again_measures_again_only_the_sizes_it_gave(alice, photos, measured_again):
    lens = photos["lens"]
    before = {name: _size(photo) for name, photo in photos.items() if name != "lens"}

    with measured_again():
        services.dermatoscope_calibrate(
            user=alice, dermatoscope=lens, upload=upload(_ruler_jpeg()), points=RULER_POINTS, distance_mm=50.0
        )
        # Committed, not yet measured: only alice's photo whose size the lens gave says so.
        measuring = {name for name, photo in photos.items() if name != "lens" and photo.analyses.get().size_measuring}
        assert measuring == {"device"}
        assert selectors.dermatoscope_photos_measuring(dermatoscope=lens) == 1

    lens.refresh_from_db()
    assert lens.mm_per_pixel == pytest.approx(NEW_MM_PER_PIXEL)
    photo = photos["device"]
    analysis = photo.analyses.get()
    assert not analysis.size_measuring and analysis.size_error == ""
    size = analysis.measures["size"]
    assert size["scale"]["source"] == "device"
    # The new calibration, at this photo's width (the lens was set up on an 800 px photo this time).
    assert size["scale"]["mm_per_pixel"] == pytest.approx(NEW_MM_PER_PIXEL * 800 / photo.width, rel=1e-6)
    assert size != before["device"]
    # A coin, marked points, another lens, another patient: untouched.
    for name in ("manual", "coin", "other_lens", "bobs"):
        assert _size(photos[name]) == before[name], name
        assert not photos[name].analyses.get().size_measuring, name
    assert selectors.dermatoscope_photos_measuring(dermatoscope=lens) == 0


def test_a_new_dermatoscope_measures_nothing_again(alice, photos, measured_again):
    with measured_again() as queued:
        services.dermatoscope_calibrate(
            user=alice, name="Brand new", upload=upload(_ruler_jpeg()), points=RULER_POINTS, distance_mm=50.0
        )
    assert queued == []


def test_set_up_again_by_its_name_it_measures_again_too(alice, photos, measured_again):
    with measured_again() as queued:
        services.dermatoscope_calibrate(
            user=alice, name="Clip-on lens", upload=upload(_ruler_jpeg()), points=RULER_POINTS, distance_mm=50.0
        )
    assert len(queued) == 1
    assert _size(photos["device"])["scale"]["mm_per_pixel"] == pytest.approx(
        NEW_MM_PER_PIXEL * 800 / photos["device"].width, rel=1e-6
    )


def test_the_dermatoscope_page_says_how_many_photos_are_being_measured_again(client_alice, photos):
    # No worker here: the photos stay "measuring again", as they are until the worker has done them.
    form = {"name": "Clip-on lens", "x1": "5", "y1": "20", "x2": "80", "y2": "20", "distance_mm": "50"}
    response = client_alice.post("/lesions/dermatoscopes/", {**form, "image": upload(_ruler_jpeg())}, follow=True)
    page = response.content.decode()
    assert "“Clip-on lens” is set up." in page
    assert "1 photo you took with it is being measured again." in page
    assert 'data-photos-measuring="1"' in page
    assert "Measuring 1 photo you took with it again" in page
    assert photos["device"].analyses.get().size_measuring
    assert not photos["bobs"].analyses.get().size_measuring


def test_the_api_says_how_many_photos_are_being_measured_again(api_alice, api_bob, photos):
    lens = photos["lens"]
    url = f"/api/dermatoscopes/{lens.pk}/calibrate/"
    body = {"image": upload(_ruler_jpeg()), "points": "[[0.05, 0.2], [0.8, 0.2]]", "distance_mm": 50}
    assert api_bob.post(url, body, format="multipart").status_code == 404
    assert not photos["device"].analyses.get().size_measuring
    body["image"] = upload(_ruler_jpeg())
    response = api_alice.post(url, body, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["photos_measuring"] == 1
    assert api_alice.get(f"/api/dermatoscopes/{lens.pk}/").json()["photos_measuring"] == 1
    assert api_alice.get(f"/api/photos/{photos['device'].pk}/").json()["size_measuring"] is True
    assert api_alice.get(f"/api/photos/{photos['manual'].pk}/").json()["size_measuring"] is False
