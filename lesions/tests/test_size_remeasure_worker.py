"""Through a real worker: a coin picked on the photo page, or a dermatoscope set up again, is measured by the
worker (inference.tasks.remeasure_size), not in the web request. The page says "measuring again" and awaits
it meanwhile, then shows the new size.

The analyses are finished by hand (`sized`, as the worker stores them), so no model runs: what crosses the
queue here is the measuring alone. The coin scene is the size study's (lesions.tests.coin_photos), 1600x1200
px: finding its coin and outline takes seconds, so the page is read while the worker is still at it.
"""

import pytest

from conftest import lesion_image, upload
from inference.models import Analysis
from inference.tests.worker import wait_for
from lesions import services
from lesions.models import Dermatoscope, Photo
from lesions.tests.coin_photos import MM_PER_PIXEL, coin_photo
from lesions.tests.test_size_pages import sized
from lesions.tests.test_size_services import _ruler_jpeg

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_analysis_queued(monkeypatch):
    """Each analysis is finished by hand (`sized`): the worker would otherwise analyse the photo too."""
    monkeypatch.setattr("inference.services._send", lambda photo_id, model_version: None)


def _measured_again(photo: Photo) -> Analysis:
    def done():
        analysis = photo.analyses.get()
        return analysis if not analysis.size_measuring else None

    return wait_for(done, timeout=120, interval=0.3, what=f"photo {photo.pk} measured again")


def test_a_coin_picked_on_the_photo_page_is_measured_by_the_worker(client_alice, lesion, shared_media, celery_worker):
    scene, true_mm = coin_photo()
    photo = services.photo_create(lesion=lesion, upload=upload(scene))
    sized(photo, long_mm=None, reason="no_reference")

    response = client_alice.post(f"/lesions/photos/{photo.pk}/coin/", {"coin": "eur_1"})
    assert response.status_code == 302 and response["Location"] == f"/lesions/photos/{photo.pk}/#size-result"
    page = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    assert "Skinsite is looking for that coin and measuring the size again." in page
    assert "Measuring the size again" in page and f'data-awaiting-photo="{photo.pk}"' in page
    assert "No size in mm." not in page  # the old answer is not shown as if it were the new one

    analysis = _measured_again(photo)
    assert analysis.size_error == ""
    size = analysis.measures["size"]
    assert size["ok"] and size["scale"]["source"] == "coin", size
    assert size["scale"]["mm_per_pixel"] == pytest.approx(MM_PER_PIXEL, rel=0.03)
    assert abs(size["long_mm"] - true_mm) <= max(0.12 * true_mm, 2 * size["long_mm_error"]), (size, true_mm)
    page = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    assert f"Size: {size['long_mm']:.1f} mm across" in page and "Measuring the size again" not in page
    assert f'data-awaiting-photo="{photo.pk}"' not in page
    print(f"measured again by the worker: {size['long_mm']:.2f} ± {size['long_mm_error']:.2f} mm (true {true_mm:.2f})")


def test_a_dermatoscope_set_up_again_has_its_photos_measured_again_by_the_worker(
    client_alice, alice, lesion, shared_media, celery_worker
):
    lens = Dermatoscope.objects.create(
        owner=alice,
        name="Clip-on lens",
        mm_per_pixel=0.02,
        relative_uncertainty=0.03,
        calibrated_width=600,
        calibrated_at="2026-01-01T00:00:00Z",
    )
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image("ISIC_0024314.jpg")), device=lens)
    sized(photo, long_mm=6.0, source="device")

    ruler = {"name": "Clip-on lens", "x1": "5", "y1": "20", "x2": "80", "y2": "20", "distance_mm": "50"}
    response = client_alice.post("/lesions/dermatoscopes/", {**ruler, "image": upload(_ruler_jpeg())})
    assert response.status_code == 302

    analysis = _measured_again(photo)
    assert analysis.size_error == ""
    scale = analysis.measures["size"]["scale"]
    assert scale["source"] == "device"
    assert scale["mm_per_pixel"] == pytest.approx(50 / 600 * 800 / photo.width, rel=1e-6)  # the new set-up
    page = client_alice.get("/lesions/dermatoscopes/").content.decode()
    assert "data-photos-measuring" not in page  # nothing left to measure
