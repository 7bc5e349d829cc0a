"""On a desktop screen every photo card of the timeline can be seen and scrolled to.

Regression: the timeline grew wider than its grid column, so from the fourth card on the photos
lay under the ABCDE box beside it and could not be reached.
"""

import itertools

import pytest

from conftest import finish_analysis, jpeg_bytes, upload
from lesions import services
from lesions.tests.flows.conftest import browser_marks

pytestmark = browser_marks

# What is painted at a point of a card: the card itself, or something over it.
TOP_ELEMENT_IS_IN_CARD = """([card, points]) => points.every(([x, y]) => {
  const hit = document.elementFromPoint(x, y);
  return hit !== null && card.contains(hit);
})"""


@pytest.mark.parametrize("width", [1024, 1280, 1920])
def test_every_photo_card_is_visible_and_not_covered(browser_page, live_server, alice, width):
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    photos = []
    for n in range(6):
        photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes(color=(120 + 20 * n, 90, 80))))
        finish_analysis(photo, nv=0.9, mel=0.1)
        photos.append(photo)

    page = browser_page(viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    timeline = page.locator(".timeline").bounding_box()
    aside = page.locator(".abcde-aside").bounding_box()
    # The photos stay in their own column: the row of cards ends before the ABCDE box starts.
    assert timeline["x"] + timeline["width"] <= aside["x"] + 1

    for photo in photos:
        card = page.locator(f"#photo-{photo.pk}")
        card.evaluate("card => card.scrollIntoView({block: 'nearest', inline: 'nearest'})")
        box = card.bounding_box()
        assert box["x"] >= timeline["x"] - 1, photo.pk
        assert box["x"] + box["width"] <= timeline["x"] + timeline["width"] + 1, photo.pk
        assert box["y"] >= -1 and box["y"] + 40 <= 900, photo.pk  # scrolled to: at the top, to a pixel
        image = page.locator(f"#photo-{photo.pk} img").first.bounding_box()
        points = [
            [image["x"] + dx * image["width"], image["y"] + dy * image["height"]]
            for dx in (0.05, 0.5, 0.95)
            for dy in (0.1, 0.5, 0.9)
        ]
        assert page.evaluate(TOP_ELEMENT_IS_IN_CARD, [card.element_handle(), points]), f"photo {photo.pk} is covered"


def test_on_a_phone_the_newest_photo_comes_first_at_full_width(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    photos = []
    for n in range(3):
        photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes(color=(120 + 20 * n, 90, 80))))
        finish_analysis(photo, nv=0.9, mel=0.1)
        photos.append(photo)

    page = browser_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")

    newest_first = sorted(photos, key=lambda p: (p.taken_at, p.pk), reverse=True)
    assert page.locator(".timeline article").evaluate_all("cards => cards.map(c => c.id)") == [
        f"photo-{p.pk}" for p in newest_first
    ]
    timeline = page.locator(".timeline").bounding_box()
    boxes = [page.locator(f"#photo-{p.pk}").bounding_box() for p in newest_first]
    # One card a row, as wide as the timeline, one under the other: no sideways swipe to reach today.
    assert all(abs(box["width"] - timeline["width"]) <= 1 for box in boxes)
    assert all(upper["y"] + upper["height"] <= lower["y"] for upper, lower in itertools.pairwise(boxes))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
