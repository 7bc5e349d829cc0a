"""Pages that await a result update themselves, without a reload: the photo page after "Save and
analyse again", and the dashboard's cards and map (also for a lesion added by the phone capture on it).

No worker here: the test finishes the analysis itself, as the worker would, while the page waits.
"""

from playwright.sync_api import expect

from conftest import finish_analysis, jpeg_bytes, lesion_image_paths, upload
from lesions import services
from lesions.models import Lesion, Photo
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks


def _mark_this_load(page) -> None:
    # A reload would lose the mark: its survival proves the page changed in place.
    page.evaluate("window.__sameLoad = true")


def _same_load(page) -> bool:
    return page.evaluate("window.__sameLoad === true")


def test_the_photo_page_shows_the_new_result_after_analyse_again(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    finish_analysis(photo)
    page = browser_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/lesions/photos/{photo.pk}/")
    page.get_by_label("Phone camera").check()
    page.get_by_role("button", name="Save and analyse again").click()
    expect(page.get_by_text("Analysing…")).to_be_visible()
    _mark_this_load(page)

    finish_analysis(photo, nv=0.2, mel=0.7, bkl=0.1)
    expect(page.get_by_text("Analysing…")).to_have_count(0)
    # The lesion's headline leads the fresh result; the photo's numbers wait under Details.
    expect(page.locator("#photo-live [data-lesion-advice]")).not_to_contain_text("No result yet")
    expect(page.locator("#photo-live summary", has_text="Details")).to_be_visible()
    assert _same_load(page)


def test_the_dashboard_card_updates_when_the_analysis_ends(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    page = browser_page(**PHONE)
    page.goto(f"{live_server.url}/lesions/")
    card = page.locator(".lesion-card")
    expect(card.get_by_text("Analysing…")).to_be_visible()
    _mark_this_load(page)

    finish_analysis(photo)
    expect(card.get_by_text("Analysing…")).to_have_count(0)
    expect(card.locator("[data-lesion-advice]")).not_to_contain_text("No result yet")
    expect(card.locator("summary", has_text="Details")).to_be_visible()
    assert _same_load(page)


def test_a_lesion_added_by_the_phone_capture_appears_on_the_dashboard(browser_page, live_server):
    page = browser_page(**PHONE)
    page.goto(f"{live_server.url}/lesions/")
    _mark_this_load(page)
    with page.expect_file_chooser() as chooser:
        page.locator("#capture-button").tap()
    chooser.value.set_files(str(lesion_image_paths()[0]))
    page.locator("#capture-preview").wait_for(state="visible")
    page.select_option("#capture-lesion", "new")
    page.fill("#capture-name", "Mole on left calf")
    page.get_by_text("With the plain phone camera").check()
    page.get_by_role("button", name="Upload photo").tap()
    page.locator("#capture-status").wait_for(state="visible")

    lesion = Lesion.objects.get(name="Mole on left calf")
    card = page.locator(".lesion-card", has_text="Mole on left calf")
    expect(card.get_by_text("Analysing…")).to_be_visible()  # the new lesion is listed at once

    finish_analysis(Photo.objects.get(lesion=lesion))
    expect(card.locator("[data-lesion-advice]")).not_to_contain_text("No result yet")
    expect(card.locator("summary", has_text="Details")).to_be_visible()
    assert _same_load(page)
