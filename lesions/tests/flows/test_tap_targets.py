"""Tap targets on a phone are at least 44 px: the dashboard's body-map dots (drawn 10 px wide)."""

import re

from playwright.sync_api import expect

from lesions import services
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks


def test_a_body_map_dot_is_a_44px_target(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Mole on the back", body_site="back")
    page = browser_page(**PHONE)
    page.goto(f"{live_server.url}/lesions/")
    dot = page.locator(f'a.bodymap-dot[data-lesion="{lesion.pk}"]')
    box = dot.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box

    # A thumb that lands beside the drawn dot (18 px off its centre) still opens the lesion.
    page.touchscreen.tap(box["x"] + box["width"] / 2 + 18, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(rf".*/lesions/{lesion.pk}/$"))
