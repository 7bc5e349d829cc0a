"""The size in mm in Debian's Chromium: the phone capture with a coin, the dermatoscope set-up by touch,
the timeline's size chart (error bars and the 6 mm line) and the /learn/size/ page; axe-core on each.

No worker runs: analyses are finished by hand, with the size the worker would store
(lesions.tests.test_size_pages.sized).
"""

import time
from datetime import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import lesion_image_paths, upload
from lesions import services
from lesions.models import Dermatoscope, Photo
from lesions.tests.flows.conftest import browser_marks
from lesions.tests.flows.journey import DESKTOP, PHONE, Journey, axe_marks
from lesions.tests.test_size_pages import sized

pytestmark = [*browser_marks, *axe_marks]


@pytest.fixture(autouse=True)
def _no_analysis_queued(monkeypatch):
    """These tests finish each analysis themselves (`sized`): the session's real worker, started by an earlier
    test on the same broker, would otherwise analyse the uploaded photo too and overwrite the size they set."""
    monkeypatch.setattr("inference.services._send", lambda photo_id, model_version: None)
    monkeypatch.setattr("inference.services._send_remeasure", lambda photo_id: None)  # nor measure it again


def _wait_for(query, timeout: float = 20.0):
    """The first row `query()` returns, waiting for the live server to store it."""
    deadline = time.monotonic() + timeout
    while (found := query()) is None:
        assert time.monotonic() < deadline, "nothing was stored"
        time.sleep(0.2)
    return found


def test_the_phone_capture_sends_the_coin_and_shows_the_size(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Mole on my arm", body_site="upper extremity")
    page = browser_page(**PHONE)
    journey = Journey(page, name="capture-size", screen=PHONE)
    page.goto(f"{live_server.url}/lesions/capture/?lesion={lesion.pk}")
    with page.expect_file_chooser() as chooser:
        page.locator("#capture-button").tap()
    chooser.value.set_files(str(lesion_image_paths()[0]))
    page.locator("#capture-preview").wait_for(state="visible")
    # The coin is asked once the box is ticked; another coin's width only for "another coin".
    expect(page.get_by_label("Which coin or card?")).to_be_hidden()
    page.get_by_label("A coin or card is in the photo").check()
    page.get_by_label("Which coin or card?").select_option("other")
    expect(page.get_by_label("Width of another coin in mm")).to_be_visible()
    page.get_by_label("Which coin or card?").select_option("eur_1")
    expect(page.get_by_label("Width of another coin in mm")).to_be_hidden()
    journey.check()
    page.get_by_role("button", name="Upload photo").tap()

    photo = _wait_for(lambda: Photo.objects.filter(lesion=lesion).first())
    assert photo.coin_diameter_mm == 23.25  # the hint reached the API
    sized(photo, long_mm=8.0)  # as the worker finishes it
    size = page.locator("#capture-size")
    expect(size).to_contain_text("Size: 8.0 mm across (± 0.4 mm)")
    expect(size).to_contain_text("A doctor checks moles wider than 6 mm")
    expect(size).to_have_attribute("data-size-flag", "wider")
    page.locator("#capture-details summary").tap()
    expect(page.locator("#capture-size-details")).to_have_text(
        "The other way: 3.0 mm (± 0.2 mm). Area: 19 mm² (± 2 mm²)."
    )
    journey.check("capture-size")
    journey.assert_clean()


def test_a_dermatoscope_is_set_up_by_touch_on_the_ruler_photo(browser_page, live_server, alice, tmp_path):
    ruler = tmp_path / "ruler.jpg"
    ruler.write_bytes(lesion_image_paths()[0].read_bytes())  # any photo: the two points give the scale
    page = browser_page(**PHONE)
    journey = Journey(page, name="dermatoscope", screen=PHONE)
    page.goto(f"{live_server.url}/lesions/dermatoscopes/")
    journey.check()
    page.get_by_label("Name of the dermatoscope").fill("Clip-on lens")
    page.get_by_label("A photo of a ruler through it").set_input_files(str(ruler))
    image = page.locator("[data-mark-frame] img")
    expect(image).to_be_visible()  # the chosen file, shown before it is sent
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    page.touchscreen.tap(box["x"] + 0.1 * box["width"], box["y"] + 0.5 * box["height"])
    page.touchscreen.tap(box["x"] + 0.6 * box["width"], box["y"] + 0.5 * box["height"])
    expect(page.locator("[data-mark-point='2']")).to_be_visible()
    page.get_by_label("Distance between the points in mm").fill("10")
    journey.check("dermatoscope-marked")
    page.get_by_role("button", name="Set it up").tap()

    expect(page.get_by_text("“Clip-on lens” is set up.")).to_be_visible()
    device = Dermatoscope.objects.get(owner=alice)
    # 10 mm over half of the photo's 200 px width, to a tap's precision on a 358 px wide picture.
    assert device.mm_per_pixel == pytest.approx(10 / 100, rel=0.03)
    assert page.get_by_role("button", name="Set up again").is_visible()
    journey.check()
    journey.assert_clean()


READ_SIZE_CHART = """() => {
  const chart = Chart.getChart(document.getElementById("size-chart"));
  const y = chart.scales.y;
  const points = chart.getDatasetMeta(0).data;
  const pixel = (x, value) => Array.from(
    chart.ctx.getImageData(x * devicePixelRatio, y.getPixelForValue(value) * devicePixelRatio, 1, 1).data
  );
  const last = points[points.length - 1];
  return {
    xs: points.map((p) => p.x),
    // The 6 mm line between the first two points, and the last point's error bar above and below it.
    six: pixel((points[0].x + points[1].x) / 2, 6),
    barAbove: pixel(last.x, chart.data.datasets[0].data[2].y + 0.25),
    besideBar: pixel(last.x + 12, chart.data.datasets[0].data[2].y + 0.25),
  };
}"""


def test_the_size_chart_has_a_time_axis_error_bars_and_the_6mm_line(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    data = lesion_image_paths()[0].read_bytes()
    for day, long_mm in ((datetime(2025, 1, 1), 4.0), (datetime(2025, 1, 8), 4.2), (datetime(2025, 12, 31), 9.0)):
        photo = services.photo_create(lesion=lesion, upload=upload(data), taken_at=timezone.make_aware(day))
        sized(photo, long_mm=long_mm)
    page = browser_page(**DESKTOP)
    journey = Journey(page, name="size-chart", screen=DESKTOP)
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    page.locator("#size-chart").scroll_into_view_if_needed()
    chart = page.evaluate(READ_SIZE_CHART)

    first, week, year_end = chart["xs"]
    assert year_end - week > 20 * (week - first)  # a week, then most of a year
    red, green, blue, _ = chart["six"]
    assert red > 150 and green < 120 and blue < 120, chart["six"]  # the dashed red 6 mm line
    # The dark error bar (9.0 ± 0.4 mm) over the last point, and nothing drawn beside it.
    assert chart["barAbove"][3] > 150 and sum(chart["barAbove"][:3]) < 300, chart
    assert chart["besideBar"][3] < 50, chart
    journey.check("size-chart")
    journey.assert_clean()


def test_the_learn_page_on_photos_with_a_coin(browser_page, live_server):
    page = browser_page(**PHONE)
    journey = Journey(page, name="learn-size", screen=PHONE)
    page.goto(f"{live_server.url}/learn/size/")
    expect(page.get_by_role("heading", name="Measure a mole with a coin or card")).to_be_visible()
    pictures = page.locator("figure img")
    assert pictures.count() == 3
    for index in range(3):
        picture = pictures.nth(index)
        picture.scroll_into_view_if_needed()
        assert len(picture.get_attribute("alt")) > 20
        assert page.evaluate("(img) => img.complete && img.naturalWidth", picture.element_handle()) == 640
    journey.check("learn-size")
    journey.assert_clean()


def test_points_are_placed_and_dragged_with_a_mouse(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image_paths()[0].read_bytes()))
    sized(photo, long_mm=None)
    page = browser_page(**DESKTOP)
    journey = Journey(page, name="mark-mouse", screen=DESKTOP)
    page.goto(f"{live_server.url}/lesions/photos/{photo.pk}/#size")
    image = page.locator("[data-mark-frame] img")
    box = image.bounding_box()
    page.mouse.click(box["x"] + 0.25 * box["width"], box["y"] + 0.25 * box["height"])
    page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.75 * box["height"])
    first = page.locator("[data-mark-point='1']").bounding_box()
    # Drag point 1 a tenth of the photo to the right.
    page.mouse.move(first["x"] + first["width"] / 2, first["y"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(first["x"] + first["width"] / 2 + 0.1 * box["width"], first["y"] + first["height"] / 2, steps=5)
    page.mouse.up()
    assert abs(float(page.locator("#id_x1").input_value()) - 35) < 1
    assert abs(float(page.locator("#id_y1").input_value()) - 25) < 1
    assert abs(float(page.locator("#id_x2").input_value()) - 75) < 1
    # A third click moves the nearer point, here point 2.
    page.mouse.click(box["x"] + 0.9 * box["width"], box["y"] + 0.8 * box["height"])
    assert abs(float(page.locator("#id_x2").input_value()) - 90) < 1
    assert abs(float(page.locator("#id_x1").input_value()) - 35) < 1
    journey.check()
    journey.assert_clean()


def test_points_are_placed_and_moved_with_the_keyboard_alone(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image_paths()[0].read_bytes()))
    sized(photo, long_mm=None)
    page = browser_page(**DESKTOP)
    page.goto(f"{live_server.url}/lesions/photos/{photo.pk}/")
    page.get_by_role("button", name="Place the points for the arrow keys").focus()
    page.keyboard.press("Enter")
    first = page.locator("[data-mark-point='1']")
    expect(first).to_be_focused()
    for _ in range(5):
        page.keyboard.press("Shift+ArrowLeft")  # 2 % a press
    page.keyboard.press("Tab")
    expect(page.locator("[data-mark-point='2']")).to_be_focused()
    page.keyboard.press("Shift+ArrowRight")
    assert page.locator("#id_x1").input_value() == "30"
    assert page.locator("#id_x2").input_value() == "62"
    page.get_by_label("What is between the two points?").select_option("eur_1")
    page.get_by_role("button", name="Measure with these two points").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Skinsite is measuring the size again from your two points.")).to_be_visible()
    assert Photo.objects.get(pk=photo.pk).manual_scale == {"points": [[0.3, 0.5], [0.62, 0.5]], "distance_mm": 23.25}
