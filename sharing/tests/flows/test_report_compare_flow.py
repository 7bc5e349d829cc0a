"""A physician compares two photos through the share link, in Debian's Chromium on a phone-sized
screen: from the report's "Compare photos" to the slider overlay and its layers, and every picture
from the report's own addresses, never the patient's login-only ones.

No model runs: the analyses are finished by hand (with heatmaps), and the compare page measures and
aligns the photos itself, as it does for analyses made before measures existed.
"""

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from conftest import finish_analysis, grown_and_darkened, jpeg_bytes, lesion_image_paths, upload
from lesions import services
from lesions.tests.flows.conftest import browser_marks
from sharing import services as sharing_services

pytestmark = browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
# The patient's own picture and data addresses: they need the patient's login, and a physician's
# page that pointed at them would show broken pictures (or, worse, work for a logged-in patient).
PATIENT_PATHS = ("/lesions/", "/api/")

# The share of the overlay's width where the later (aligned) photo is the one on top, found the way
# a finger would: what lies under each of 40 points across the overlay's middle. clip-path clips
# hit-testing as it clips painting, so this is what the reader sees, whatever the CSS says.
LATER_SHARE = """overlay => {
  overlay.scrollIntoView({ block: "center" });  // a point off the screen hits nothing
  const box = overlay.getBoundingClientRect();
  const top = overlay.querySelector("[data-compare-top]");
  let later = 0;
  for (let i = 0; i < 40; i++) {
    const hit = document.elementFromPoint(box.left + (i + 0.5) * box.width / 40, box.top + box.height / 2);
    if (top.contains(hit)) later += 1;
  }
  return later / 40;
}"""


@pytest.fixture
def shared_pair(alice):
    """Alice's lesion, photographed in March and grown and darkened six months later; both photos
    analysed with a heatmap; and a link for her physician (returns the lesion, its photos, the token)."""
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    original = next(p for p in lesion_image_paths() if p.name == "ISIC_0024314.jpg").read_bytes()
    first = services.photo_create(lesion=lesion, upload=upload(original), taken_at=MARCH)
    later = services.photo_create(
        lesion=lesion, upload=upload(grown_and_darkened(original)), taken_at=MARCH + timedelta(days=180)
    )
    for photo in (first, later):
        analysis = finish_analysis(photo)
        analysis.heatmap.save("heatmap.jpg", ContentFile(jpeg_bytes(size=(200, 150), color=(220, 30, 30))))
    _, token = sharing_services.share_link_create(owner=alice, lesion=lesion, physician_email="dr@clinic.example")
    return lesion, first, later, token


@pytest.fixture
def physician_phone(browser_page):
    page = browser_page(**PHONE)
    page.context.clear_cookies()  # the physician has no account: the link is all they hold
    return page


def _loaded(image) -> None:
    """Wait until the picture has arrived and decoded (not just its element)."""
    expect(image).to_have_js_property("complete", True)
    expect(image).not_to_have_js_property("naturalWidth", 0)


def test_the_physician_compares_two_photos_on_a_phone(physician_phone, live_server, shared_pair):
    lesion, first, later, token = shared_pair
    page = physician_phone
    requested, failed, csp_errors = [], [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("response", lambda response: response.status >= 400 and failed.append(urlsplit(response.url).path))
    page.on("console", lambda message: "Content Security Policy" in message.text and csp_errors.append(message.text))

    page.goto(f"{live_server.url}/r/{token}/")
    page.wait_for_url(re.compile(r".*/report/\d+/$"))
    report = urlsplit(page.url).path
    assert token not in page.url  # traded for a report session, gone from the address bar
    page.get_by_role("button", name="Compare photos").tap()
    page.wait_for_url(f"{live_server.url}{report}lesions/{lesion.pk}/compare/")

    # On the first screen, above the pictures: the comparison is not a diagnosis.
    notice = page.locator(".notice .not-a-diagnosis")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Not a diagnosis.")
    expect(notice).to_be_in_viewport()
    expect(page.get_by_text("larger than in March").first).to_be_visible()

    # Side by side (one above the other on a phone): both photos, each from the report.
    sides = page.locator(".compare-side img.layer-photo")
    expect(sides).to_have_count(2)
    for index, photo in enumerate((first, later)):
        side = sides.nth(index)
        side.scroll_into_view_if_needed()
        expect(side).to_have_attribute("src", f"{report}photos/{photo.pk}/image/")
        _loaded(side)
        expect(side).to_be_visible()

    # The overlay: the later photo, aligned by the server, over the earlier one, half and half.
    overlay = page.locator("[data-compare-overlay]")
    aligned = overlay.locator("[data-compare-top] img.layer-photo")
    expect(aligned).to_have_attribute("src", re.compile(rf"^{re.escape(report)}lesions/{lesion.pk}/compare/image/\?"))
    overlay.scroll_into_view_if_needed()
    _loaded(aligned)
    _loaded(overlay.locator(":scope > img.layer-photo"))
    assert overlay.evaluate(LATER_SHARE) == pytest.approx(0.5, abs=0.05)

    # The keyboard moves the wipe: End shows only the earlier photo, Home only the later one.
    slider = page.get_by_role("slider", name="Wipe between the earlier and the later photo")
    slider.focus()
    page.keyboard.press("End")
    expect(slider).to_have_value("100")
    assert overlay.evaluate(LATER_SHARE) == 0
    page.keyboard.press("Home")
    expect(slider).to_have_value("0")
    assert overlay.evaluate(LATER_SHARE) == 1
    for _ in range(25):
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_value("25")
    assert overlay.evaluate(LATER_SHARE) == pytest.approx(0.75, abs=0.05)

    # A finger on the slider's track moves it there too.
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
    expect(slider).not_to_have_value("25")
    value = int(slider.input_value())
    assert 70 <= value <= 90, value  # the thumb's own width shifts the track's ends a little
    assert overlay.evaluate(LATER_SHARE) == pytest.approx(1 - value / 100, abs=0.05)

    # Heatmaps: in both views, over the photos; the plain photos under the overlay's heatmaps step aside.
    heatmaps = page.get_by_label("Heatmaps")
    overlay_heatmaps = overlay.locator("img.layer-heatmap")
    expect(overlay_heatmaps).to_have_count(2)
    expect(overlay_heatmaps.first).to_be_hidden()
    heatmaps.tap()
    expect(heatmaps).to_be_checked()
    for index in range(2):
        expect(overlay_heatmaps.nth(index)).to_be_visible()
        _loaded(overlay_heatmaps.nth(index))
        expect(page.locator(".compare-side img.layer-heatmap").nth(index)).to_be_visible()
    expect(overlay.locator("img.layer-photo").first).to_be_hidden()
    expect(aligned).to_be_hidden()
    heatmaps.tap()
    expect(heatmaps).not_to_be_checked()
    expect(overlay_heatmaps.first).to_be_hidden()
    expect(page.locator(".compare-side img.layer-heatmap").first).to_be_hidden()
    expect(aligned).to_be_visible()

    # Outlines: the later one aligned on the overlay, each photo's own beside it.
    outlines = page.get_by_label("Outlines")
    overlay_outline = overlay.locator("img.layer-outline")
    expect(overlay_outline).to_be_hidden()
    outlines.tap()
    expect(outlines).to_be_checked()
    expect(overlay_outline).to_be_visible()
    _loaded(overlay_outline)
    side_outlines = page.locator(".compare-side svg.layer-outline")
    expect(side_outlines).to_have_count(2)
    expect(side_outlines.first).to_be_visible()
    expect(side_outlines.last).to_be_visible()
    outlines.tap()
    expect(overlay_outline).to_be_hidden()
    expect(side_outlines.first).to_be_hidden()

    # Every picture the page shows came from this report, and nothing went to the patient's addresses.
    sources = page.evaluate("[...document.images].map(image => new URL(image.src).pathname)")
    assert sources and all(source.startswith(report) for source in sources), sources
    resources = page.evaluate("performance.getEntriesByType('resource').map(entry => new URL(entry.name).pathname)")
    assert any("/compare/image/" in path for path in resources), resources
    paths = [urlsplit(url).path for url in requested]
    assert not [path for path in paths if path.startswith(PATIENT_PATHS)], paths
    assert not [path for path in resources if path.startswith(PATIENT_PATHS)], resources
    # The browser may ask for a /favicon.ico the site does not have; every other answer was a success.
    assert not [path for path in failed if path != "/favicon.ico"], failed

    # Fits the phone: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    assert not csp_errors, csp_errors
