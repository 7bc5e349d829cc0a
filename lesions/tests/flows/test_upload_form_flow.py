"""The lesion page's upload form in a real phone browser: it asks how the photo was taken, and a
refused upload shows its error where the person looks (first in the form, scrolled to, focused),
not at the bottom of a long page."""

from conftest import finish_analysis, jpeg_bytes, lesion_image_paths, upload
from lesions import services
from lesions.models import Photo
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks


def test_a_refused_upload_shows_its_error_in_view_and_focused(browser_page, live_server, alice, tmp_path):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    for _ in range(3):  # a long page: a timeline, a chart, notes, a share form above the upload
        finish_analysis(services.photo_create(lesion=lesion, upload=upload(jpeg_bytes())))
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_bytes(b"not an image at all")
    page = browser_page(**PHONE)
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")

    page.locator('input[name="image"]:not([capture])').set_input_files(str(not_an_image))
    page.get_by_role("button", name="Upload photo").tap()
    errors = page.locator("#upload-errors")
    errors.wait_for()
    assert "not an image we can read" in errors.inner_text()
    box = errors.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844  # on screen, not below it
    assert page.locator("#upload-errors:focus").count() == 1
    assert Photo.objects.count() == 3


def test_the_desktop_form_asks_how_the_photo_was_taken(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    page = browser_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    page.locator('input[name="image"]:not([capture])').set_input_files(str(lesion_image_paths()[0]))
    page.get_by_label("How was it taken?").select_option("dermoscopy")
    page.get_by_role("button", name="Upload photo").click()
    page.wait_for_url(f"{live_server.url}/lesions/{lesion.pk}/")
    assert Photo.objects.get().photo_type == "dermoscopy"
    # The next upload's question is answered in advance as last time.
    assert page.get_by_label("How was it taken?").input_value() == "dermoscopy"
