"""On a phone the timeline opens at the newest photo (today), not at the oldest, five swipes away:
the cards are newest first, one under the other, and today's is on the first screen."""

from datetime import timedelta

from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, upload
from lesions import services
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks


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
    newest, oldest = page.locator(f"#photo-{photos[-1].pk}"), page.locator(f"#photo-{photos[0].pk}")
    newest.wait_for()
    first_card = page.locator(".timeline article").first
    assert first_card.get_attribute("id") == f"photo-{photos[-1].pk}"
    # Today's card is reached by scrolling down past the lesion's headline, never sideways; the oldest is last.
    assert newest.bounding_box()["y"] < oldest.bounding_box()["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    newest.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollX") == 0
