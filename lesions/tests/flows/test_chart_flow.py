"""The lesion page's chart in a real browser: photos at their dates (not evenly spaced), the advice's
bands drawn behind the lines, and the melanoma line drawn over the malignant one."""

from datetime import datetime

from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, upload
from lesions import services
from lesions.tests.flows.conftest import browser_marks

pytestmark = browser_marks

READ_CHART = """() => {
  const chart = Chart.getChart(document.getElementById("chart"));
  const mel = chart.data.datasets.findIndex((d) => d.label.startsWith("Melanoma"));
  const malignant = chart.data.datasets.length - 1;
  const area = chart.chartArea;
  const y = chart.scales.y;
  const pixel = (value) => Array.from(
    chart.ctx.getImageData(area.left + 40 * devicePixelRatio, y.getPixelForValue(value) * devicePixelRatio, 1, 1).data
  );
  return {
    xs: chart.getDatasetMeta(mel).data.map((p) => p.x),
    // Chart.js draws its sorted datasets from the last to the first: earlier in the list is on top.
    melOnTop: chart.getSortedVisibleDatasetMetas().map((m) => m.index).indexOf(mel)
      < chart.getSortedVisibleDatasetMetas().map((m) => m.index).indexOf(malignant),
    high: pixel(0.95),
    low: pixel(0.02),
  };
}"""


def test_the_chart_has_a_time_axis_bands_and_the_melanoma_line_on_top(browser_page, live_server, alice):
    lesion = services.lesion_create(owner=alice, name="Left shoulder", body_site="back")
    for day in (datetime(2025, 1, 1), datetime(2025, 1, 8), datetime(2025, 12, 31)):
        photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), taken_at=timezone.make_aware(day))
        finish_analysis(photo, mel=0.5, nv=0.5)
    page = browser_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    page.locator("#chart").wait_for()
    chart = page.evaluate(READ_CHART)

    first, week, year_end = chart["xs"]
    assert year_end - week > 20 * (week - first)  # a week, then most of a year
    # The melanoma line is drawn after (over) the malignant line, which runs with it here.
    assert chart["melOnTop"]
    # Behind the lines: the high band is tinted red, the low band green.
    red, green, _, _ = chart["high"]
    assert red > green
    red, green, _, _ = chart["low"]
    assert green > red
