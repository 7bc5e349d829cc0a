"""The size by hand on the photo page, in Debian's Chromium at a phone's size with touch: the patient
taps the two edges of the coin in the photo, nudges one point with the arrow keys, says what lies
between them, and the browser posts the form; the page says the size is being measured again, and once
the worker has (run here by the test) it shows the lesion's size in mm without a reload.

No worker runs: the analysis is finished by hand with the outline the worker finds
(inference.measuring.photo_measures, on a committed HAM10000 image) and no scale (no reference
found), as the worker stores it.
"""

from PIL import Image
from playwright.sync_api import expect

from conftest import finish_analysis, lesion_image, upload
from inference import measuring
from inference.services import size_remeasure_run
from lesions import services
from lesions.models import Photo
from lesions.size_words import MEASURING_AGAIN_WORDS
from lesions.tests.flows.conftest import browser_marks
from lesions.tests.flows.journey import PHONE, Journey, axe_marks
from measurement.scale import REASONS, manual_scale
from measurement.size import lesion_size

pytestmark = [*browser_marks, *axe_marks]


def test_marking_two_points_by_touch_and_keys_gives_the_size(browser_page, live_server, alice, monkeypatch):
    queued: list[int] = []  # what the live server queues for the worker, which this test runs itself
    monkeypatch.setattr("inference.services._send_remeasure", queued.append)
    lesion = services.lesion_create(owner=alice, name="Mole on my chest", body_site="chest")
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image("ISIC_0024314.jpg")))
    analysis = finish_analysis(photo)
    with photo.image.open("rb") as stored, Image.open(stored) as image:
        analysis.measures = measuring.photo_measures(image.convert("RGB"))
    analysis.measures["size"] = measuring.photo_size_refused("no_reference")
    analysis.save()
    assert analysis.measures["ok"] and analysis.measures["outline"]  # a trusted outline gets a size

    page = browser_page(**PHONE)
    journey = Journey(page, name="manual-scale", screen=PHONE)
    page.goto(f"{live_server.url}/lesions/photos/{photo.pk}/")
    expect(page.get_by_text(REASONS["no_reference"]).first).to_be_visible()
    journey.check("no-size")

    # Two taps on the photo: point 1, then point 2 (a coin's two edges, 20 % and 70 % across).
    frame = page.locator("[data-mark-frame] img")
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    page.touchscreen.tap(box["x"] + 0.2 * box["width"], box["y"] + 0.5 * box["height"])
    page.touchscreen.tap(box["x"] + 0.7 * box["width"], box["y"] + 0.5 * box["height"])
    first, second = page.locator("[data-mark-point='1']"), page.locator("[data-mark-point='2']")
    expect(second).to_be_visible()
    for point in (first, second):  # a thumb's target
        size = point.bounding_box()
        assert size["width"] >= 44 and size["height"] >= 44, size
    x2_tapped = float(page.locator("#id_x2").input_value())
    assert abs(x2_tapped - 70) < 1.5 and abs(float(page.locator("#id_x1").input_value()) - 20) < 1.5

    # The keyboard moves a point: ten presses right, 0.2 % each.
    second.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#id_x2")).to_have_value(str(round(x2_tapped + 2, 1)))
    y2 = page.locator("#id_y2").input_value()
    expect(second).to_have_attribute(
        "aria-label", f"Point 2: {round(x2_tapped + 2, 1)}% from the left, {y2}% from the top. Arrow keys move it."
    )
    journey.check("marked")

    page.get_by_label("What is between the two points?").select_option("other")
    page.get_by_label("Length in mm").fill("12")
    page.get_by_role("button", name="Measure with these two points").tap()

    # The worker measures it, not the web request: meanwhile the page says so, and waits for it.
    expect(page.get_by_text("Skinsite is measuring the size again from your two points.")).to_be_visible()
    result = page.locator("#size-result")
    expect(result).to_contain_text(MEASURING_AGAIN_WORDS)
    journey.check("measuring-again")
    assert queued == [photo.pk]
    size_remeasure_run(photo_id=photo.pk)  # as the worker runs it; live.js then redraws the page
    photo = Photo.objects.get(pk=photo.pk)
    assert photo.manual_scale["distance_mm"] == 12
    assert abs(photo.manual_scale["points"][1][0] - (x2_tapped + 2) / 100) < 1e-6  # point 2, moved by keys
    # What the page says is the size the outline has at the marked scale.
    scale = manual_scale(photo.manual_scale["points"], 12, width=photo.width, height=photo.height)
    outline = photo.analyses.get().measures["outline"]  # found again, as the worker finds it
    size = lesion_size(outline, width=photo.width, height=photo.height, scale=scale)
    expect(result).to_contain_text(
        f"Size: {size['long_mm']:.1f} mm across (± {size['long_mm_error']:.1f} mm)", timeout=15_000
    )
    journey.check("sized")
    journey.assert_clean()
