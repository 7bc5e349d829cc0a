"""The phone flow asks once how photos are taken (dermatoscope attachment or plain camera), remembers
the answer on the phone, lets the patient change it, and sends it with the upload."""

import pytest

from conftest import lesion_image_paths
from lesions import services
from lesions.models import Photo
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks


@pytest.fixture
def phone(browser_page):
    return browser_page(**PHONE)


def _take_and_upload(page, url: str) -> None:
    page.goto(url)
    with page.expect_file_chooser() as chooser:
        page.locator("#capture-button").tap()
    chooser.value.set_files(str(lesion_image_paths()[0]))
    page.locator("#capture-preview").wait_for(state="visible")


def _upload(page, count: int) -> None:
    page.get_by_role("button", name="Upload photo").tap()
    page.locator("#capture-status").wait_for(state="visible")
    assert Photo.objects.count() == count


def test_the_photo_type_is_asked_once_remembered_and_changeable(phone, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    url = f"{live_server.url}/lesions/capture/?lesion={lesion.pk}"
    page = phone

    # First time: the question is asked.
    _take_and_upload(page, url)
    assert page.locator("#capture-type").is_visible()
    assert page.locator("#capture-type-known").is_hidden()
    page.get_by_label("Through a dermatoscope attachment").check()
    _upload(page, 1)
    assert Photo.objects.get().photo_type == "dermoscopy"

    # Next time: remembered, not asked, and sent again.
    _take_and_upload(page, url)
    assert page.locator("#capture-type").is_hidden()
    assert "through a dermatoscope attachment" in page.locator("#capture-type-known").inner_text()
    _upload(page, 2)
    assert Photo.objects.order_by("-pk").first().photo_type == "dermoscopy"

    # Changed: the plain camera from now on.
    _take_and_upload(page, url)
    page.get_by_role("button", name="Change").tap()
    assert page.locator("#capture-type").is_visible()
    page.get_by_label("With the plain phone camera").check()
    _upload(page, 3)
    assert Photo.objects.order_by("-pk").first().photo_type == "clinical"
    _take_and_upload(page, url)
    assert "with the plain phone camera" in page.locator("#capture-type-known").inner_text()


def test_not_saying_leaves_the_photo_type_to_the_model(phone, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    _take_and_upload(phone, f"{live_server.url}/lesions/capture/?lesion={lesion.pk}")
    _upload(phone, 1)
    assert Photo.objects.get().photo_type is None
