"""The body map on a phone-sized screen in a real browser: tap the outline → the site list shows
that site → save → the dashboard shows the lesion's dot, which leads to the lesion."""

import re

import pytest
from playwright.sync_api import expect

from conftest import jpeg_bytes
from lesions.bodymap import site_at
from lesions.models import Lesion
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks
LESION_PAGE = re.compile(r".*/lesions/\d+/$")


@pytest.fixture
def phone(browser_page):
    return browser_page(**PHONE)


def test_tapping_the_map_chooses_the_site_and_the_dashboard_shows_the_dot(phone, live_server, alice):
    page = phone
    page.goto(f"{live_server.url}/lesions/new/")
    page.get_by_label("Name").fill("Mole between the shoulder blades")
    site = page.locator("#id_body_site")
    assert site.input_value() == "unknown"

    # Turn the body round and tap the middle of the back.
    page.get_by_role("button", name="Back", exact=True).tap()
    region = page.locator("#pick-back-back")
    box = region.bounding_box()
    assert box["width"] > 40, "the back view is shown large enough to tap"
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.3)
    assert site.input_value() == "back"
    assert page.locator('input[name="map_view"]').input_value() == "back"
    assert page.locator(".bodymap-chosen-dot").count() == 1
    assert "Back" in page.locator("[data-bodymap-chosen]").inner_text()

    # The list updates the map too (keyboard and screen-reader users choose there).
    site.select_option("hand")
    assert page.locator('input[name="map_view"]').input_value() == ""
    assert "selected" in (page.locator("#pick-front-hand-right").get_attribute("class") or "")
    assert page.locator(".bodymap-chosen-dot").count() == 0
    # ...and a new tap wins again.
    page.get_by_role("button", name="Back", exact=True).tap()
    box = region.bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.3)
    assert site.input_value() == "back"

    page.get_by_role("button", name="Save").tap()
    page.wait_for_url(LESION_PAGE)
    lesion = Lesion.objects.get(owner=alice, name="Mole between the shoulder blades")
    assert page.url == f"{live_server.url}/lesions/{lesion.pk}/"
    assert lesion.body_site == "back"
    assert lesion.map_view == "back"
    assert site_at(lesion.map_x, lesion.map_y, "back") == "back"
    assert 110 < lesion.map_y < 130  # a third of the way down the back (y 80-196)

    page.goto(f"{live_server.url}/lesions/")
    dot = page.locator(f'.bodymap-dot[data-lesion="{lesion.pk}"]')
    assert dot.is_visible()
    assert "Mole between the shoulder blades" in dot.get_attribute("aria-label")
    assert "no result yet" in dot.get_attribute("aria-label")
    dot.tap()
    page.wait_for_url(f"{live_server.url}/lesions/{lesion.pk}/")


def test_without_javascript_the_site_list_alone_places_the_lesion(browser_page, live_server, alice):
    page = browser_page(**PHONE, java_script_enabled=False)
    page.goto(f"{live_server.url}/lesions/new/")
    assert not page.locator("[data-bodymap-picker]").is_visible()
    page.get_by_label("Name").fill("Freckle on the cheek")
    page.locator("#id_body_site").select_option("face")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(LESION_PAGE)
    lesion = Lesion.objects.get(owner=alice, name="Freckle on the cheek")
    assert (lesion.body_site, lesion.map_view) == ("face", "front")
    assert site_at(lesion.map_x, lesion.map_y, "front") == "face"


def test_the_phone_capture_flow_places_a_new_lesion_by_a_tap(phone, live_server, alice, tmp_path):
    image = tmp_path / "mole.jpg"
    image.write_bytes(jpeg_bytes())
    page = phone
    page.goto(f"{live_server.url}/lesions/capture/")
    page.locator("#capture-input").set_input_files(str(image))
    page.locator("#capture-preview").wait_for(state="visible")
    page.select_option("#capture-lesion", "new")
    page.fill("#capture-name", "Mole on the neck")
    picker = page.locator("#capture-new [data-bodymap-picker]")
    picker.get_by_role("button", name="Back", exact=True).tap()
    # Locator.tap waits until the region is visible and stable: the capture page may still be
    # laying out (the photo-type question appears beside it), and a tap at a box measured before
    # that would land elsewhere.
    page.locator("#capture-pick-back-neck").tap()
    expect(page.locator("#capture-site")).to_have_value("neck")

    page.get_by_role("button", name="Upload photo").tap()
    page.locator('#capture-lesion-link[href^="/lesions/"]').wait_for(state="attached")  # the lesion exists
    lesion = Lesion.objects.get(owner=alice, name="Mole on the neck")
    assert (lesion.body_site, lesion.map_view) == ("neck", "back")
    assert site_at(lesion.map_x, lesion.map_y, "back") == "neck"
