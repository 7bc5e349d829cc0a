"""The lesion's size in mm where its results show: timeline, photo page, the physician's report and its PDF.

Sizes are stored as the worker stores them: measurement.size.lesion_size on an outline and a scale.
"""

import io
import math
from unittest import mock

import pytest
from pypdf import PdfReader

from conftest import finish_analysis, open_report, upload
from lesions import services
from lesions.charts import timeline_chart_data
from lesions.selectors import lesion_history
from measurement import size as size_module
from measurement.scale import REASONS, Scale, refused
from measurement.size import lesion_size

pytestmark = pytest.mark.django_db

EURO_1 = 23.25


def _ellipse(rx: float, ry: float, n: int = 60) -> list[list[float]]:
    """An outline in fractions of the photo, centred."""
    return [[0.5 + rx * math.cos(2 * math.pi * k / n), 0.5 + ry * math.sin(2 * math.pi * k / n)] for k in range(n)]


# The outline noise these pages' expected figures were written with ("8.0 mm across (± 0.4 mm)": 4 % outline,
# 2 % scale). The study's measured noise lives in measurement.size and changes when the study is rerun; these
# tests check how a stored size is shown, so they pin the noise they were written for.
PAGE_OUTLINE_SD = {"long": 0.04, "short": 0.05, "area": 0.08}


def _size(outline, *, width: int, height: int, scale: Scale) -> dict:
    with mock.patch.dict(size_module.OUTLINE_RELATIVE_SD, PAGE_OUTLINE_SD):
        return lesion_size(outline, width=width, height=height, scale=scale)


def sized(photo, *, long_mm: float | None, source: str = "coin", reason: str = "no_reference"):
    """Finish the photo's analysis with an outline `long_mm` wide (None: no scale found, for `reason`)."""
    analysis = finish_analysis(photo)
    width, height = photo.width, photo.height
    outline = _ellipse(0.2, 0.1)
    if long_mm is None:
        scale = refused(reason, source=source)
    else:
        long_px = 0.4 * width
        scale = Scale(
            ok=True,
            source=source,
            mm_per_pixel=long_mm / long_px,
            relative_uncertainty=0.02,
            reference={"kind": source},
        )
    analysis.measures = {
        "ok": True,
        "values": {"asymmetry": 0.1, "border_irregularity": 1.1, "colour_count": 2, "colours": ["light brown"]},
        "outline": outline,
        "size": _size(outline, width=width, height=height, scale=scale),
    }
    analysis.save()
    return analysis


@pytest.fixture
def coin_photo(lesion, real_image_bytes):
    photo = services.photo_create(lesion=lesion, upload=upload(real_image_bytes))
    photo.coin_diameter_mm = EURO_1
    photo.save()
    sized(photo, long_mm=8.0)
    return photo


def test_the_timeline_card_shows_the_size_and_the_6mm_flag(client_alice, lesion, coin_photo):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "Size: 8.0 mm across (± 0.4 mm)" in page  # 4 % outline and 2 % scale: 0.36 mm
    assert "A doctor checks moles wider than 6 mm, about the size of a pencil eraser." in page
    assert 'data-size-flag="wider"' in page
    # Under Details: the diameter across it, the area and where the scale came from.
    # The outline is 80 by 30 px on a 200 by 150 px photo, at 0.1 mm a pixel.
    assert "The other way: 3.0 mm (± 0.2 mm)." in page
    assert "Area: 19 mm² (± 2 mm²)." in page
    assert "Measured against your 1 euro coin." in page
    # The advice headline leads the card's size.
    assert page.index("data-lesion-advice") < page.index("Size: 8.0 mm across")


def test_a_size_close_to_6mm_is_not_called_wider(client_alice, lesion, real_image_bytes):
    sized(services.photo_create(lesion=lesion, upload=upload(real_image_bytes)), long_mm=6.2)
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "Size: 6.2 mm across" in page
    assert 'data-size-flag="unsure"' in page and "too close to 6 mm to tell" in page
    assert "A doctor checks moles wider" not in page


def test_the_photo_page_shows_the_size_and_its_source(client_alice, coin_photo):
    page = client_alice.get(f"/lesions/photos/{coin_photo.pk}/").content.decode()
    assert "Size: 8.0 mm across (± 0.4 mm)" in page
    assert "Measured against your 1 euro coin." in page


def test_without_a_scale_the_pages_say_why_and_how_to_add_one(client_alice, lesion, real_image_bytes):
    photo = services.photo_create(lesion=lesion, upload=upload(real_image_bytes))
    sized(photo, long_mm=None, reason="coin_over_lesion")
    timeline = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert REASONS["coin_over_lesion"] in timeline
    assert f'href="/lesions/photos/{photo.pk}/#size"' in timeline  # the manual fallback
    assert 'href="/learn/size/"' in timeline
    photo_page = client_alice.get(f"/lesions/photos/{photo.pk}/").content.decode()
    assert REASONS["coin_over_lesion"] in photo_page and 'href="/learn/size/"' in photo_page
    assert 'href="#size"' in photo_page and 'id="size"' in photo_page  # the form just below


def test_the_size_chart_has_a_gap_where_a_photo_had_no_scale(lesion, real_image_bytes):
    for long_mm in (5.0, None, 6.5):
        sized(services.photo_create(lesion=lesion, upload=upload(real_image_bytes)), long_mm=long_mm)
    size = timeline_chart_data(lesion_history(lesion=lesion))["size"]
    assert size["any"] and size["six_mm"] == 6.0
    assert [v if v is None else round(v, 1) for v in size["values"]] == [5.0, None, 6.5]
    assert size["errors"][1] is None and 0.2 < size["errors"][0] < 0.3


def test_no_size_chart_until_a_photo_has_a_size(client_alice, lesion, done_photo):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert 'id="size-chart"' not in page
    assert "The size in mm shows here once a photo has a coin or card" in page


def test_the_size_chart_shows_on_the_timeline(client_alice, lesion, coin_photo):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert 'id="size-chart"' in page


def test_another_patient_cannot_see_the_photo_or_timeline(client, bob, lesion, coin_photo):
    client.force_login(bob)
    assert client.get(f"/lesions/photos/{coin_photo.pk}/").status_code == 404
    assert client.get(f"/lesions/{lesion.pk}/timeline/").status_code == 404


def test_the_physicians_report_and_its_pdf_show_the_size(client, share, coin_photo):
    url = open_report(client, share.token)
    page = client.get(url).content.decode()
    assert "Size: 8.0 mm across (± 0.4 mm)" in page
    assert "Measured against your 1 euro coin." in page
    assert "Chart: the lesion's longest diameter in millimetres" in page  # the size chart's SVG

    pdf = client.get(f"{url}report.pdf")
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Size: 8.0 mm across (± 0.4 mm)" in text
    assert "Wider than 6 mm" in text
    assert "Longest diameter in mm" in text  # the size chart's title


def test_the_patients_own_pdf_shows_the_size(client_alice, lesion, coin_photo):
    response = client_alice.get(f"/lesions/{lesion.pk}/report.pdf")
    assert response.status_code == 200, response.status_code
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Size: 8.0 mm across (± 0.4 mm)" in text


def test_the_size_words_are_plain(client_alice, lesion, real_image_bytes):
    from skinsite.tests.test_plain_words import assert_plain, prose

    photos = []
    for long_mm, reason in ((8.0, ""), (6.1, ""), (4.0, ""), (None, "no_reference"), (None, "coin_over_lesion")):
        photo = services.photo_create(lesion=lesion, upload=upload(real_image_bytes))
        sized(photo, long_mm=long_mm, reason=reason or "no_reference")
        photos.append(photo)
    urls = [f"/lesions/{lesion.pk}/", *(f"/lesions/photos/{photo.pk}/" for photo in photos)]
    pages = {url: client_alice.get(url).content.decode() for url in urls}
    assert "Less than 6 mm across." in pages[urls[0]] and "too close to 6 mm" in pages[urls[0]]
    assert_plain({url: prose(html) for url, html in pages.items()})


def test_the_lesion_says_its_latest_and_first_size(client, client_alice, lesion, real_image_bytes, share):
    from datetime import datetime

    from django.utils import timezone

    for day, long_mm in (
        (datetime(2025, 3, 3, 12), 4.9),
        (datetime(2025, 6, 1, 12), None),
        (datetime(2025, 12, 7, 12), 5.8),
    ):
        photo = services.photo_create(lesion=lesion, upload=upload(real_image_bytes), taken_at=timezone.make_aware(day))
        sized(photo, long_mm=long_mm)
    sentence = (
        "Latest size: 5.8 mm across (± 0.3 mm), on 7 Dec 2025. First measured: 4.9 mm across (± 0.2 mm), on 3 Mar 2025."
    )
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert sentence in page
    assert page.index("data-lesion-advice") < page.index("Latest size")  # below the headline
    url = open_report(client, share.token)
    assert sentence in client.get(url).content.decode()
    pdf = client.get(f"{url}report.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Latest size: 5.8 mm across (± 0.3 mm), on 7 Dec 2025." in " ".join(text.split())


def test_one_size_is_only_the_latest(client_alice, lesion, coin_photo):
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "Latest size: 8.0 mm across (± 0.4 mm)" in page and "First measured" not in page


def test_the_photo_page_draws_the_coin_it_measured_against(client_alice, coin_photo):
    analysis = coin_photo.analyses.get()
    reference = {"kind": "coin", "centre": [0.7, 0.4], "radius_x": 0.1, "radius_y": 0.1333}
    analysis.measures["size"]["scale"]["reference"] = reference
    analysis.save()
    page = client_alice.get(f"/lesions/photos/{coin_photo.pk}/").content.decode()
    assert '<ellipse cx="70.00" cy="40.00" rx="10.00" ry="13.33"' in page
    assert "The yellow ring shows the coin Skinsite measured against." in page


def test_a_partial_reference_draws_nothing(client_alice, coin_photo):
    analysis = coin_photo.analyses.get()
    analysis.measures["size"]["scale"]["reference"] = {"kind": "card", "corners": None}
    analysis.save()
    page = client_alice.get(f"/lesions/photos/{coin_photo.pk}/").content.decode()
    assert "mark-reference" not in page and "Size: 8.0 mm across" in page


def test_the_compare_page_says_each_photos_size(client_alice, lesion, real_image_bytes):
    for long_mm in (4.9, 5.8):
        sized(services.photo_create(lesion=lesion, upload=upload(real_image_bytes)), long_mm=long_mm)
    page = client_alice.get(f"/lesions/{lesion.pk}/compare/").content.decode()
    assert "Size: 4.9 mm across (± 0.2 mm)" in page and "Size: 5.8 mm across (± 0.3 mm)" in page
    assert "Width in mm: +0.9 mm from the earlier photo to the later one" in page


def test_no_change_says_the_width_change_in_mm_not_that_the_size_was_not_compared(client_alice, lesion, coin_photo):
    analysis = coin_photo.analyses.get()
    analysis.change = {
        "changed": False,
        "sentences": [],
        "comparisons": [
            {"kind": "previous", "photo_id": 1, "taken_on": "2026-03-02", "alignment": {"ok": False}, "growth_mm": 0.42}
        ],
    }
    analysis.save()
    page = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "its width in mm changed by +0.4 mm" in page
    assert "so the size was not compared" not in page


def test_the_dashboard_card_says_the_latest_size(client_alice, lesion, coin_photo):
    page = client_alice.get("/lesions/").content.decode()
    assert "Latest size: 8.0 mm across (± 0.4 mm)" in page


def test_a_size_being_measured_again_says_so_where_it_shows(client_alice, alice, lesion, coin_photo):
    services.photo_coin_set(photo=coin_photo, user=alice, coin="gbp_2")  # its task never runs here
    assert coin_photo.analyses.get().size_measuring
    timeline = client_alice.get(f"/lesions/{lesion.pk}/").content.decode()
    assert "Measuring the size again with the new scale." in timeline and "Size: 8.0 mm across" not in timeline
    assert "Latest size: 8.0 mm across (± 0.4 mm), on" in timeline and "It is being measured again." in timeline
    dashboard = client_alice.get("/lesions/").content.decode()
    assert "Latest size: 8.0 mm across (± 0.4 mm) (being measured again)" in dashboard
