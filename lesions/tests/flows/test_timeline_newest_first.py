"""On a phone the timeline opens at the newest photo (today), not at the oldest, five swipes away."""

from datetime import timedelta

from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, upload
from lesions import services
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks


def _on_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["x"] >= -1 and box["x"] + box["width"] <= 391


def test_the_phone_timeline_opens_at_the_newest_photo(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    photos = []
    for months_ago in (10, 8, 6, 4, 2, 0):
        taken_at = timezone.now() - timedelta(days=30 * months_ago)
        photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), taken_at=taken_at)
        finish_analysis(photo, nv=0.9, mel=0.1)
        photos.append(photo)

    page = browser_page(**PHONE)
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    page.locator(f"#photo-{photos[-1].pk}").wait_for()
    assert _on_screen(page, f"#photo-{photos[-1].pk}")
    assert not _on_screen(page, f"#photo-{photos[0].pk}")  # older photos are a swipe back in time
