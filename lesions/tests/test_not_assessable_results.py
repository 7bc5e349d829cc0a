"""A photo refused as not assessable is kept, marked, but is no result: not on the chart, not a
compare default, not compared against by change detection, not in the physician's report."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from conftest import finish_analysis, jpeg_bytes, lesion_image, open_report, upload
from inference.models import Analysis
from lesions import services
from lesions.charts import timeline_chart_data
from lesions.selectors import lesion_history

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))


def _refused(photo) -> Analysis:
    analysis = photo.analyses.get()
    analysis.status = Analysis.Status.NOT_ASSESSABLE
    analysis.error = "The photo is too bright"
    analysis.save()
    return analysis


@pytest.fixture
def series(lesion):
    """Two analysed photos of alice's lesion, then a refused chat screenshot, the newest."""
    first = services.photo_create(lesion=lesion, upload=upload(lesion_image("ISIC_0024314.jpg")), taken_at=MARCH)
    second = services.photo_create(
        lesion=lesion, upload=upload(lesion_image("ISIC_0024314.jpg")), taken_at=MARCH + timedelta(days=90)
    )
    screenshot = services.photo_create(
        lesion=lesion, upload=upload(jpeg_bytes(color=(250, 250, 250))), taken_at=MARCH + timedelta(days=120)
    )
    finish_analysis(first, mel=0.3, nv=0.7)
    finish_analysis(second, mel=0.2, nv=0.8)
    _refused(screenshot)
    return first, second, screenshot


def test_the_patient_keeps_the_photo_marked_but_the_chart_leaves_it_out(client_alice, lesion, series):
    first, second, screenshot = series
    chart = timeline_chart_data(lesion_history(lesion=lesion))
    assert chart["labels"] == [first.taken_at.date().isoformat(), second.taken_at.date().isoformat()]
    page = client_alice.get(lesion.get_absolute_url()).content.decode()
    assert f'id="photo-{screenshot.pk}"' in page and "Not assessable: The photo is too bright" in page


def test_the_compare_page_defaults_to_the_first_and_last_assessable_photos(client_alice, lesion, series):
    first, second, screenshot = series
    response = client_alice.get(f"/lesions/{lesion.pk}/compare/")
    assert response.status_code == 200
    pair = response.context["pair"]
    assert (pair.earlier.pk, pair.later.pk) == (first.pk, second.pk)
    # The patient may still choose it.
    assert screenshot in response.context["photos"]


def test_the_physicians_report_and_compare_leave_it_out(client, share, series):
    _first, second, screenshot = series
    report = client.get(open_report(client, share.token)).content.decode()
    assert f"/photos/{second.pk}/thumbnail/" in report
    assert f"/photos/{screenshot.pk}/" not in report and "too bright" not in report
    assert client.get(f"/report/{share.pk}/photos/{screenshot.pk}/thumbnail/").status_code == 404
    compare = client.get(f"/report/{share.pk}/lesions/{share.lesion_id}/compare/")
    assert compare.status_code == 200
    assert screenshot not in compare.context["photos"]
    assert compare.context["pair"].later.pk == second.pk


def test_change_detection_compares_with_the_last_assessable_photo(lesion, series):
    from PIL import Image

    from inference.services import _lesion_change

    first, second, _screenshot = series
    newest = services.photo_create(
        lesion=lesion, upload=upload(lesion_image("ISIC_0024314.jpg")), taken_at=MARCH + timedelta(days=150)
    )
    analysis = finish_analysis(newest, mel=0.25, nv=0.75)
    with Image.open(newest.image) as opened:
        change = _lesion_change(analysis, opened.convert("RGB"))
    compared = {c["kind"]: c["photo_id"] for c in change["comparisons"]}
    assert compared == {"previous": second.pk, "first": first.pk}
