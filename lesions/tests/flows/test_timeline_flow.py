"""The lesion page in a real desktop browser: upload a photo, and its analysis and the chart
appear by themselves (no reload) once the real worker has finished."""

import pytest

from conftest import lesion_image_paths
from inference.models import Analysis
from lesions import services
from lesions.models import Photo
from lesions.tests.flows.conftest import browser_marks

pytestmark = browser_marks


@pytest.fixture
def desktop(browser_page):
    return browser_page(viewport={"width": 1280, "height": 900})


@pytest.mark.worker
def test_uploaded_photo_gets_its_result_and_chart_without_a_reload(
    desktop, live_server, alice, shared_media, celery_worker
):
    lesion = services.lesion_create(owner=alice, name="Mole on back", body_site="back")
    page = desktop
    page.goto(f"{live_server.url}/lesions/{lesion.pk}/")
    assert page.get_by_text("Not a diagnosis.").first.is_visible()

    page.locator('input[name="image"]:not([capture])').set_input_files(str(lesion_image_paths()[0]))
    page.get_by_role("button", name="Upload photo").click()
    page.wait_for_url(f"{live_server.url}/lesions/{lesion.pk}/")
    photo = Photo.objects.get(lesion=lesion)
    card = page.locator(f"#photo-{photo.pk}")
    card.wait_for()
    # Mark this page load: a reload would lose the mark, so its survival proves none happened.
    page.evaluate("window.__sameLoad = true")

    # A locator, not wait_for_function: the page's Content-Security-Policy forbids the eval it uses.
    page.locator(f"#photo-{photo.pk} [aria-busy]").wait_for(state="detached", timeout=120_000)
    analysis = Analysis.objects.get(photo=photo)
    assert analysis.status == Analysis.Status.DONE, analysis.error
    assert page.evaluate("window.__sameLoad") is True
    # The lesion's headline leads the timeline; the photo's numbers wait under Details.
    assert page.locator("[data-lesion-advice]").first.is_visible()
    card.locator("summary", has_text="Details").click()
    assert analysis.predicted_label in card.inner_text()
    assert f"{round(analysis.malignant_probability * 100)}%" in card.inner_text()
    # The chart was drawn from the refreshed data: one point per class line plus the malignant line.
    points = page.evaluate("Chart.getChart(document.getElementById('chart')).data.datasets.map(d => d.data.length)")
    assert points == [1] * 8
    assert page.locator(".timeline [data-pending]").count() == 0
