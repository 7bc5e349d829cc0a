"""The compare page in Debian's Chromium on a phone-sized screen: slider, heatmaps, outlines, no CSP errors.

The analyses run in the test process (the real model and measures); the page and its aligned
images come from the live server.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import grown_and_darkened, lesion_image_paths, upload
from inference.services import analysis_run
from lesions import services
from lesions.tests.flows.conftest import browser_marks

pytestmark = browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))


@pytest.fixture
def changed_lesion(alice):
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    original = next(p for p in lesion_image_paths() if p.name == "ISIC_0024314.jpg").read_bytes()
    first = services.photo_create(lesion=lesion, upload=upload(original), taken_at=MARCH)
    later = services.photo_create(
        lesion=lesion, upload=upload(grown_and_darkened(original)), taken_at=MARCH + timedelta(days=180)
    )
    analysis_run(photo_id=first.pk)
    analysis_run(photo_id=later.pk)
    return lesion


def test_compare_slider_on_a_phone(browser_page, live_server, changed_lesion):
    page = browser_page(**PHONE)
    csp_errors = []
    page.on("console", lambda message: "Content Security Policy" in message.text and csp_errors.append(message.text))
    page.goto(f"{live_server.url}/lesions/{changed_lesion.pk}/")
    page.get_by_role("button", name="Compare two photos").click()
    page.wait_for_url(f"{live_server.url}/lesions/{changed_lesion.pk}/compare/")
    expect(page.get_by_text("larger than in March").first).to_be_visible()

    top = page.locator("[data-compare-top] img.layer-photo")
    top.scroll_into_view_if_needed()
    # The aligned later photo (a PNG the server warped) has loaded.
    page.locator("[data-compare-top] img.layer-photo[src*='layer=photo']").wait_for()
    page.wait_for_function("document.querySelector('[data-compare-top] img.layer-photo').naturalWidth === 200")

    slider = page.locator("[data-compare-slider]")
    expect(slider).to_be_visible()
    # Waits (rather than reads once) for the clip to follow the slider, so a slow CI run cannot flake.
    clip = "getComputedStyle(document.querySelector('[data-compare-top]')).clipPath.includes('{}%')"
    page.wait_for_function(clip.format(50))
    slider.fill("10")
    page.wait_for_function(clip.format(10))
    slider.fill("90")
    page.wait_for_function(clip.format(90))

    # Heatmaps in both views, then outlines.
    overlay_heatmap = page.locator("[data-compare-top] img.layer-heatmap")
    expect(overlay_heatmap).to_be_hidden()
    page.get_by_label("Heatmaps").check()
    expect(overlay_heatmap).to_be_visible()
    expect(page.locator(".compare-side img.layer-heatmap").first).to_be_visible()
    expect(page.locator("[data-compare-top] img.layer-photo")).to_be_hidden()
    page.get_by_label("Outlines").check()
    expect(page.locator("[data-compare-overlay] img.layer-outline")).to_be_visible()
    expect(page.locator(".compare-side svg.layer-outline").first).to_be_visible()

    # Fits the phone: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    assert not csp_errors, csp_errors
