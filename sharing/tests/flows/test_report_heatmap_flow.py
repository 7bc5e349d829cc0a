"""The physician's report in a real browser: the heatmap toggle lays the overlay over the photo."""

import pytest
from django.core.files.base import ContentFile

from conftest import finish_analysis, jpeg_bytes, upload
from lesions import services
from lesions.tests.flows.conftest import browser_marks
from sharing import services as sharing_services

pytestmark = browser_marks


@pytest.fixture
def physician(browser_page):
    page = browser_page(viewport={"width": 1280, "height": 900})
    page.context.clear_cookies()  # the physician has no account: the link is all they hold
    return page


def test_the_physician_toggles_where_the_model_looked(physician, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes(size=(400, 300))))
    analysis = finish_analysis(photo)
    analysis.heatmap.save("heatmap.jpg", ContentFile(jpeg_bytes(size=(400, 300), color=(220, 30, 30))))
    _, token = sharing_services.share_link_create(owner=alice, lesion=lesion, physician_email="dr@clinic.example")

    page = physician
    page.goto(f"{live_server.url}/r/{token}/")
    overlay = page.locator(f"#heatmap-{photo.pk}")
    assert overlay.is_hidden()
    button = page.locator(f'[aria-controls="heatmap-{photo.pk}"]')  # its name changes when pressed
    assert button.inner_text() == "Show where the model looked"
    button.click()
    overlay.wait_for(state="visible")
    # Polled with evaluate: wait_for_function's eval is refused by the page's Content-Security-Policy.
    heatmap_image = page.locator(f"#heatmap-{photo.pk}")
    for _ in range(100):
        if heatmap_image.evaluate("img => img.complete && img.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    assert heatmap_image.evaluate("img => img.naturalWidth") > 0
    assert button.get_attribute("aria-pressed") == "true"
    assert button.inner_text() == "Hide the heatmap"
    button.click()
    overlay.wait_for(state="hidden")
