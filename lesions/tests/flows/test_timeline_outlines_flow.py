"""The timeline's "Show outlines" switch in Debian's Chromium on a desktop: offered only when its
script runs, worked from the keyboard, and each stored outline lies on its own photo card.

No model runs: the analyses are finished by hand, with the outline and measures the worker stores.
"""

import io
from datetime import datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from conftest import finish_analysis, lesion_image_paths, upload
from inference import measuring
from lesions import services
from lesions.tests.flows.conftest import browser_marks

pytestmark = browser_marks

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))

# Each card's photo, its outline overlay and the outline's line, measured in one go so they come
# from the same layout.
BOXES = """card => {
  const rect = (element) => {
    const box = element.getBoundingClientRect();
    return { left: box.left, top: box.top, right: box.right, bottom: box.bottom };
  };
  return {
    image: rect(card.querySelector(".photo-frame > a > img")),
    overlay: rect(card.querySelector("svg.timeline-outline")),
    line: rect(card.querySelector("svg.timeline-outline polygon")),
  };
}"""


def _portrait(data: bytes) -> bytes:
    """The photo made portrait (its top and bottom rows repeated), so the card's landscape crop cuts it."""
    pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    margin = pixels.shape[0] // 2
    out = io.BytesIO()
    Image.fromarray(np.pad(pixels, ((margin, margin), (0, 0), (0, 0)), mode="edge")).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def timeline(alice):
    """Alice's lesion with two photos measured as the worker measures them (one landscape, one
    portrait), and a third analysed before measures existed (no outline stored). Returns the lesion,
    the measured photos and the third."""
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    landscape, other, unmeasured_image = (
        next(p for p in lesion_image_paths() if p.name == name).read_bytes()
        for name in ("ISIC_0024314.jpg", "ISIC_0024317.jpg", "ISIC_0024331.jpg")
    )
    measured = []
    for month, data in enumerate((landscape, _portrait(other))):
        photo = services.photo_create(lesion=lesion, upload=upload(data), taken_at=MARCH + timedelta(days=30 * month))
        analysis = finish_analysis(photo)
        with photo.image.open("rb") as stored, Image.open(stored) as image:  # the stored photo, as the worker reads it
            analysis.measures = measuring.photo_measures(image.convert("RGB"))
        analysis.save()
        assert analysis.outline_points
        measured.append(photo)
    assert measured[1].height > measured[1].width
    unmeasured = services.photo_create(
        lesion=lesion, upload=upload(unmeasured_image), taken_at=MARCH + timedelta(days=90)
    )
    finish_analysis(unmeasured)
    return lesion, measured, unmeasured


def _expected_line(photo, image: dict) -> dict:
    """Where the outline's corners fall on the card: the photo scaled to cover the card's box and
    centred (object-fit: cover), the outline's 0-1 points on that photo."""
    outline = photo.analyses.get().measures["outline"]
    width, height = image["right"] - image["left"], image["bottom"] - image["top"]
    scale = max(width / photo.width, height / photo.height)
    left = image["left"] + (width - photo.width * scale) / 2
    top = image["top"] + (height - photo.height * scale) / 2
    xs, ys = [x * photo.width * scale for x, _ in outline], [y * photo.height * scale for _, y in outline]
    return {"left": left + min(xs), "top": top + min(ys), "right": left + max(xs), "bottom": top + max(ys)}


def _inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (
        inner["left"] >= outer["left"] - slack
        and inner["top"] >= outer["top"] - slack
        and inner["right"] <= outer["right"] + slack
        and inner["bottom"] <= outer["bottom"] + slack
    )


def test_the_keyboard_shows_and_hides_the_outlines_on_their_photos(browser_page, live_server, timeline):
    lesion, measured, unmeasured = timeline
    page = browser_page(**DESKTOP)
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")

    expect(page.get_by_role("button", name="Show outlines")).to_be_visible()  # timeline.js offers it
    switch = page.locator("[data-timeline-outlines]")  # its name changes when pressed
    expect(switch).to_have_attribute("aria-pressed", "false")
    outlines = page.locator(".timeline svg.timeline-outline")
    expect(outlines).to_have_count(len(measured))  # the unmeasured photo has none to show
    expect(page.locator(f"#photo-{unmeasured.pk} svg")).to_have_count(0)
    for index in range(len(measured)):
        expect(outlines.nth(index)).to_be_hidden()

    # Reached with Tab from the link before it, as a keyboard user would, and pressed with Enter.
    page.get_by_role("button", name="Compare two photos").focus()
    page.keyboard.press("Tab")
    expect(switch).to_be_focused()
    page.keyboard.press("Enter")
    expect(switch).to_have_attribute("aria-pressed", "true")
    expect(switch).to_have_text("Hide outlines")
    expect(switch).to_be_focused()  # the same button, renamed: focus stays where the user is
    for photo in measured:
        card = page.locator(f"#photo-{photo.pk}")
        card.scroll_into_view_if_needed()
        expect(card.locator("svg.timeline-outline")).to_be_visible()
        expect(card.locator(".photo-frame > a > img")).to_have_js_property("complete", True)
        boxes = card.evaluate(BOXES)
        # The overlay covers its card's photo exactly; the lesion's line lies within that photo, where
        # the stored outline puts it once the photo is cropped to the card as the thumbnail is.
        expected = _expected_line(photo, boxes["image"])
        for side in ("left", "top", "right", "bottom"):
            assert boxes["overlay"][side] == pytest.approx(boxes["image"][side], abs=1), (side, boxes)
            assert boxes["line"][side] == pytest.approx(expected[side], abs=2), (side, boxes, expected)
        assert _inside(boxes["line"], boxes["image"]), boxes
        assert boxes["line"]["right"] - boxes["line"]["left"] > 5, boxes  # a lesion, not a dot

    # Space presses it again: the outlines go.
    switch.focus()
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-pressed", "false")
    expect(switch).to_have_text("Show outlines")
    for index in range(len(measured)):
        expect(outlines.nth(index)).to_be_hidden()


def test_without_javascript_no_switch_and_no_outlines(browser_page, live_server, timeline):
    lesion, measured, _ = timeline
    page = browser_page(**DESKTOP, java_script_enabled=False)
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    expect(page.locator(f"#photo-{measured[0].pk} img").first).to_be_visible()  # the page is there
    expect(page.locator("[data-timeline-outlines-switch]")).to_be_hidden()
    expect(page.get_by_role("button", name="Show outlines")).to_be_hidden()
    expect(page.locator(".timeline svg.timeline-outline").first).to_be_hidden()
