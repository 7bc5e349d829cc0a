"""The phone flow in a real browser: camera button → which lesion → upload with progress → status.

Debian's Chromium (never a downloaded browser) at an iPhone-sized viewport, against a live
server, with the real Celery worker analysing a real lesion photo with the committed model: the
patient must see the result, so an analysis that fails or is refused fails the test.
"""

from pathlib import Path

import pytest
from PIL import Image

from conftest import lesion_image_paths
from inference.models import Analysis
from lesions import selectors, services
from lesions.models import Lesion, Photo
from lesions.tests.flows.conftest import browser_marks

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}

pytestmark = browser_marks

# Records what the page went through, so a fast step (the upload) cannot slip past the test.
RECORDER = """
window.__progress = [];
window.__statuses = [];
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("capture");
  const bar = document.getElementById("capture-bar");
  if (!root || !bar) return;
  new MutationObserver(() => window.__progress.push(Number(bar.value))).observe(bar, {attributes: true});
  new MutationObserver(() => window.__statuses.push(root.dataset.analysisStatus))
    .observe(root, {attributes: true, attributeFilter: ["data-analysis-status"]});
});
"""


@pytest.fixture
def phone(browser_page):
    """A logged-in page in a fresh Chromium profile, sized and behaving like a phone."""
    page = browser_page(**PHONE)
    page.context.add_init_script(RECORDER)
    return page


def _throttle_uploads(page, bytes_per_second: int) -> None:
    """Slow the phone's uplink, as a mobile network would, so the progress bar has steps."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


@pytest.fixture
def phone_photo(tmp_path) -> Path:
    """What a phone camera hands over: a 12-megapixel JPEG (a real HAM10000 lesion, scaled up)."""
    path = tmp_path / "IMG_0001.jpg"
    with Image.open(lesion_image_paths()[0]) as source:
        source.resize((4000, 3000), Image.Resampling.BICUBIC).save(path, "JPEG", quality=95)
    return path


@pytest.mark.worker
def test_camera_button_to_finished_analysis_on_a_phone(
    phone, phone_photo, live_server, alice, shared_media, celery_worker
):
    services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    image = phone_photo
    page = phone
    page.goto(f"{live_server.url}/lesions/")

    # Laid out for the phone: nothing wider than the screen, and a thumb-sized button that opens
    # the rear camera (capture="environment").
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    button = page.locator("#capture-button")
    assert button.inner_text() == "Take a photo"
    assert button.bounding_box()["width"] > 300 and button.bounding_box()["height"] >= 44
    camera = page.get_by_role("button", name="Take a photo")  # what a screen reader announces
    assert camera.get_attribute("capture") == "environment"
    assert camera.get_attribute("accept") == "image/*"
    with page.expect_file_chooser() as chooser:
        button.tap()
    chooser.value.set_files(str(image))

    # Which lesion? A new one, named on the spot.
    page.locator("#capture-preview").wait_for(state="visible")
    assert page.locator("#capture-lesion option").all_inner_texts() == [
        "Choose a lesion…",
        "Left shoulder (Back)",
        "A new lesion…",
    ]
    page.select_option("#capture-lesion", "new")
    page.fill("#capture-name", "Mole on left calf")
    page.select_option("#capture-site", "lower extremity")
    _throttle_uploads(page, bytes_per_second=image.stat().st_size // 3)  # about three seconds
    page.get_by_role("button", name="Upload photo").tap()

    # The progress bar fills, then the status is followed without a reload until it is final.
    page.locator("#capture-status").wait_for(state="visible")
    # A selector, not wait_for_function: the page's Content-Security-Policy forbids the eval
    # Playwright would use for a string predicate (and this flow runs under the real policy).
    final = ", ".join(f"#capture[data-analysis-status={status}]" for status in ("done", "failed", "not_assessable"))
    page.locator(final).wait_for(timeout=180_000)
    progress = page.evaluate("window.__progress")
    assert progress and progress[-1] == 100
    assert any(0 < value < 100 for value in progress), progress
    statuses = page.evaluate("window.__statuses")
    assert statuses[0] in ("pending", "running"), statuses  # shown before the analysis was done

    lesion = Lesion.objects.get(owner=alice, name="Mole on left calf")
    assert lesion.body_site == "lower extremity"
    photo = Photo.objects.get(lesion=lesion)
    analysis = Analysis.objects.get(photo=photo)
    # A real lesion photo from a phone: the patient sees the result, not a failure.
    assert (analysis.status, analysis.error) == (Analysis.Status.DONE, "")
    assert statuses[-1] == "done"
    assert page.locator("#capture-state").inner_text() == "Analysis done."
    # The lesion's headline leads, the same sentence as on its timeline, coloured by its band ...
    assessment = selectors.lesion_assessment(lesion=lesion)
    headline = page.locator("#capture-headline")
    headline.wait_for(state="visible")
    assert headline.inner_text().strip() == assessment["title"]
    assert headline.get_attribute("data-band") == (assessment["band"] or "none")
    # Not a diagnosis, said once on the page (on the dashboard, above the lesions' headlines).
    assert page.locator(".not-a-diagnosis").count() == 1 and page.locator(".not-a-diagnosis").is_visible()
    # ... and this photo's own numbers wait under Details, below it.
    summary = page.locator("#capture-details summary")
    assert headline.bounding_box()["y"] < summary.bounding_box()["y"]
    assert not page.locator("#capture-result").is_visible()
    summary.tap()
    result = page.locator("#capture-result").inner_text()
    assert analysis.predicted_label in result
    assert f"{round(analysis.malignant_probability * 100)}%" in result
    link = page.get_by_role("link", name="See this lesion's timeline")
    assert link.get_attribute("href") == f"/lesions/{lesion.pk}/"

    # The timeline page opens from there, with the photo on it.
    link.tap()
    page.wait_for_url(f"{live_server.url}/lesions/{lesion.pk}/")
    assert page.locator(f"img[src='/lesions/photos/{photo.pk}/thumbnail/']").count() == 1


def test_a_file_that_is_not_a_photo_is_refused_with_the_reason(phone, live_server, alice, tmp_path):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    not_a_photo = Path(tmp_path / "notes.jpg")
    not_a_photo.write_bytes(b"these are not the pixels you are looking for")
    page = phone
    page.goto(f"{live_server.url}/lesions/capture/?lesion={lesion.pk}")

    with page.expect_file_chooser() as chooser:
        page.locator("#capture-button").tap()
    chooser.value.set_files(str(not_a_photo))
    assert page.locator("#capture-lesion").input_value() == str(lesion.pk)  # preselected
    page.get_by_role("button", name="Upload photo").tap()

    error = page.locator("#capture-error")
    error.wait_for(state="visible")
    assert "image" in error.inner_text().lower() or "photo" in error.inner_text().lower()
    assert page.get_by_role("button", name="Upload photo").is_enabled()  # try again with another photo
    assert not Photo.objects.filter(lesion=lesion).exists()
