"""End to end through a real worker, on the patient's and the physician's pages: a photo with a coin
beside the lesion, uploaded with the lesion page's form ("A coin or card is in the photo", the
patient's 1 euro coin), is measured by the worker; its timeline, photo page, report and PDF then say
its size in mm and draw the size chart. The scene is the size study's (lesions.tests.coin_photos), so
the true scale and size are known.
"""

import io

import pytest
from pypdf import PdfReader

from conftest import open_report, upload
from lesions.models import Photo
from lesions.size_words import size_words
from lesions.tests.coin_photos import EURO_MM, MM_PER_PIXEL, coin_photo
from lesions.tests.test_size_worker_flow import _finished
from sharing import services as sharing_services

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_web_upload_with_a_coin_shows_the_size_everywhere(
    client, client_alice, alice, lesion, shared_media, celery_worker
):
    alice.coin = "eur_1"
    alice.save(update_fields=["coin"])
    scene, true_mm = coin_photo()
    response = client_alice.post(
        f"/lesions/{lesion.pk}/photos/", {"image": upload(scene), "reference_in_photo": "on", "coin": "mine"}
    )
    assert response.status_code == 302
    photo = Photo.objects.get(lesion=lesion)
    assert photo.coin_diameter_mm == EURO_MM

    analysis = _finished(photo.pk)
    assert analysis.status == "done", analysis.error
    size = analysis.measures["size"]
    assert size["ok"] and size["scale"]["mm_per_pixel"] == pytest.approx(MM_PER_PIXEL, rel=0.03)
    assert abs(size["long_mm"] - true_mm) < 3 * size["long_mm_error"]  # the page says a size that holds
    words = size_words(size, coin_diameter_mm=EURO_MM)
    line = f"Size: {words.across}"

    timeline = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert line in timeline and words.flag_text in timeline
    assert "Measured against your 1 euro coin." in timeline and 'id="size-chart"' in timeline
    assert line in client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()

    _, token = sharing_services.share_link_create(owner=alice, lesion=lesion, physician_email="dr@clinic.example")
    url = open_report(client, token)
    assert line in client.get(url).content.decode()
    pdf = client.get(f"{url}report.pdf")
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert line in text and "Longest diameter in mm" in text
    print(f"web form: {words.across} (the lesion in the scene: {true_mm:.1f} mm); {words.flag_text}")
