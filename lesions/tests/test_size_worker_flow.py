"""End to end through a real worker: a photo with a coin beside the lesion, uploaded through the API and
through the phone flow, comes back with the lesion's long diameter in mm and its uncertainty.

The photo is a scene of known size (lesions.tests.coin_photos): a real HAM10000 lesion 7 mm long on its
own skin with a 1-euro coin beside it, 0.05 mm a pixel; two scenes whose lesion the outline method finds
well (on others the outline, not the coin, can be off by more than 12 %). Accuracy over many scenes is
the size study's to measure (`make size`, reports/size.md).
"""

import numpy as np
import pytest
from django.test import Client

from conftest import PASSWORD, upload
from inference.models import Analysis
from inference.services import current_model_version
from inference.tests.worker import wait_for
from lesions.models import Photo
from lesions.tests.coin_photos import EURO_MM, MM_PER_PIXEL, coin_photo
from measurement.size import feret

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _finished(photo_id: int) -> Analysis:
    def done():
        analysis = Analysis.objects.filter(photo_id=photo_id, model_version=current_model_version()).first()
        return analysis if analysis is not None and analysis.is_finished else None

    return wait_for(done, timeout=180, interval=0.3, what=f"the analysis of photo {photo_id}")


def _check_size(size: dict, analysis: Analysis, photo: Photo) -> None:
    """The coin was found at the scene's true scale, and the lesion's outline as the worker stored it
    was measured at that scale: its long diameter in pixels, in mm, within the scale's uncertainty.

    How close the outline itself comes to the lesion's true size is the size study's to measure
    (reports/size.md); here the worker's path from photo to mm is what is checked."""
    assert size["ok"] is True, size
    assert size["scale"]["source"] == "coin"
    assert size["scale"]["mm_per_pixel"] == pytest.approx(MM_PER_PIXEL, rel=0.03)
    assert 0 < size["scale"]["relative_uncertainty"] < 0.05
    outline_px = np.asarray(analysis.measures["outline"]) * [photo.width, photo.height]
    assert size["long_mm"] == pytest.approx(feret(outline_px)[0] * MM_PER_PIXEL, rel=0.03)
    assert size["long_mm_error"] >= size["long_mm"] * size["scale"]["relative_uncertainty"]
    assert size["wider_than_6mm"] in (True, False, None)


def _close_to_the_truth(size: dict, true_mm: float) -> None:
    # The bound for 95 % of scenes (12 %), or 2 of the size's own standard deviations.
    assert abs(size["long_mm"] - true_mm) <= max(0.12 * true_mm, 2 * size["long_mm_error"]), (size, true_mm)


def test_a_photo_with_a_coin_uploaded_through_the_api_comes_back_in_mm(api_alice, shared_media, celery_worker):
    scene, true_mm = coin_photo()
    assert api_alice.patch("/api/account/", {"coin": "eur_1"}, format="json").status_code == 200
    lesion_id = api_alice.post("/api/lesions/", {"name": "Back mole", "body_site": "back"}, format="json").json()["id"]

    response = api_alice.post(
        f"/api/lesions/{lesion_id}/photos/", {"image": upload(scene), "coin": "mine"}, format="multipart"
    )
    assert response.status_code == 202, response.content
    assert response.json()["coin_diameter_mm"] == EURO_MM
    photo_id = response.json()["id"]

    analysis = _finished(photo_id)
    assert analysis.status == "done", analysis.error
    body = api_alice.get(f"/api/photos/{photo_id}/").json()
    size = body["analysis"]["size"]
    _check_size(size, analysis, Photo.objects.get(pk=photo_id))
    _close_to_the_truth(size, true_mm)
    assert body["size"] == size
    history = api_alice.get(f"/api/lesions/{lesion_id}/history/").json()["results"]
    assert history[0]["analysis"]["size"]["long_mm"] == size["long_mm"]
    print(f"API: long diameter {size['long_mm']:.2f} ± {size['long_mm_error']:.2f} mm (the lesion: {true_mm:.2f})")


def test_a_photo_with_a_coin_from_the_phone_flow_comes_back_in_mm(alice, lesion, shared_media, celery_worker):
    # The capture page uploads with the session's login and its CSRF token, as its script does.
    alice.coin = "eur_1"
    alice.save(update_fields=["coin"])
    phone = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="Mozilla/5.0 (iPhone)")
    assert phone.login(email="alice@example.com", password=PASSWORD)
    assert phone.get(f"/lesions/capture/?lesion={lesion.pk}").status_code == 200
    token = phone.cookies["csrftoken"].value
    scene, true_mm = coin_photo(seed=2)

    response = phone.post(
        f"/api/lesions/{lesion.pk}/photos/",
        {"image": upload(scene), "coin": "mine", "photo_type": "clinical"},
        HTTP_X_CSRFTOKEN=token,
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 202, response.content
    photo = Photo.objects.get(pk=response.json()["id"])
    assert photo.coin_diameter_mm == EURO_MM

    analysis = _finished(photo.pk)
    assert analysis.status == "done", analysis.error
    size = phone.get(f"/api/photos/{photo.pk}/", HTTP_ACCEPT="application/json").json()["size"]
    _check_size(size, analysis, photo)
    _close_to_the_truth(size, true_mm)
    print(f"phone: long diameter {size['long_mm']:.2f} ± {size['long_mm_error']:.2f} mm (the lesion: {true_mm:.2f})")
