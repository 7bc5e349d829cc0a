"""Sizes in mm from the web process: a scale marked by hand or a coin picked later, dermatoscope
calibration, the patient's coin at upload, and the size history for the chart.

No model runs: an analysis is finished by `finish_analysis` and measured as the worker measures it
(inference.measuring.photo_measures, pure), so the services below rewrite what the worker stored.
"""

import dataclasses
import io
from datetime import datetime, timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.services import user_coin_set
from conftest import finish_analysis, grown_and_darkened, jpeg_bytes, lesion_image, upload
from inference import measuring
from inference import services as inference_services
from inference.models import Analysis
from lesions import selectors, services
from lesions.models import Dermatoscope
from measurement.size import OUTLINE_RELATIVE_SD, feret
from measurement.thresholds import AREA, SIZE, load_thresholds
from training.contract import open_image

pytestmark = pytest.mark.django_db

MARCH = timezone.make_aware(datetime(2026, 3, 2, 10, 0))


def _measured(photo) -> Analysis:
    """The photo's analysis finished, with the outline and measures the worker stores."""
    analysis = finish_analysis(photo)
    with photo.image.open("rb") as fh:
        analysis.measures = measuring.photo_measures(open_image(fh))
    analysis.save(update_fields=["measures"])
    return analysis


def _long_px(analysis: Analysis, photo) -> float:
    outline = np.asarray(analysis.measures["outline"]) * [photo.width, photo.height]
    return feret(outline)[0]


def _points(photo, pixels: float) -> list[list[float]]:
    """Two points `pixels` apart across the photo's top."""
    return [[0.05, 0.05], [0.05 + pixels / photo.width, 0.05]]


@pytest.fixture
def growth_counts(monkeypatch):
    """Growth of the long diameter beyond 0.8 mm is a change (the committed threshold may still be unset)."""
    thresholds = dataclasses.replace(load_thresholds(), long_diameter_growth_mm=0.8)
    monkeypatch.setattr(inference_services, "load_thresholds", lambda: thresholds)


def test_a_scale_marked_by_hand_measures_the_lesion_in_mm_at_once(measured_again, alice, done_photo):
    analysis = _measured(done_photo)
    with measured_again():
        services.photo_scale_set(photo=done_photo, user=alice, points=_points(done_photo, 100), distance_mm=10.0)

    done_photo.refresh_from_db()
    assert done_photo.manual_scale == {"points": _points(done_photo, 100), "distance_mm": 10.0}
    analysis.refresh_from_db()
    size = analysis.measures["size"]
    assert size["ok"], size
    assert size["scale"]["source"] == "manual"
    assert size["long_mm"] == pytest.approx(_long_px(analysis, done_photo) * 10.0 / 100, rel=1e-3)
    assert 0 < size["long_mm_error"] < size["long_mm"] * 0.1
    assert analysis.measures["outline"]  # the rest of what the worker stored is kept
    assert selectors.analysis_size(analysis) == size


def test_only_the_owner_may_set_a_photos_scale(bob, done_photo):
    _measured(done_photo)
    with pytest.raises(Http404):
        services.photo_scale_set(photo=done_photo, user=bob, points=_points(done_photo, 100), distance_mm=10.0)
    with pytest.raises(Http404):
        services.photo_coin_set(photo=done_photo, user=bob, coin="eur_1")
    done_photo.refresh_from_db()
    assert done_photo.manual_scale is None and done_photo.coin_diameter_mm is None


@pytest.mark.parametrize(
    ("points", "distance", "field"),
    [
        ([[0.1, 0.1]], 10.0, "points"),
        ([[0.1, 0.1], [1.5, 0.1]], 10.0, "points"),
        ([[0.1, 0.1], [0.1005, 0.1]], 10.0, "points"),  # a third of a pixel apart: no scale
        ([[0.1, 0.1], [0.5, 0.1]], 0.0, "distance_mm"),
        ([[0.1, 0.1], [0.5, 0.1]], float("nan"), "distance_mm"),
    ],
)
def test_points_that_give_no_scale_are_refused_by_field(alice, done_photo, points, distance, field):
    with pytest.raises(ValidationError) as refused:
        services.photo_scale_set(photo=done_photo, user=alice, points=points, distance_mm=distance)
    assert field in refused.value.message_dict
    done_photo.refresh_from_db()
    assert done_photo.manual_scale is None


def test_picking_the_coin_later_drops_the_marked_scale_and_looks_for_the_coin(measured_again, alice, done_photo):
    analysis = _measured(done_photo)
    with measured_again():
        services.photo_scale_set(photo=done_photo, user=alice, points=_points(done_photo, 100), distance_mm=10.0)
        services.photo_coin_set(photo=done_photo, user=alice, coin="eur_1")

    done_photo.refresh_from_db()
    assert done_photo.coin_diameter_mm == 23.25 and done_photo.manual_scale is None
    analysis.refresh_from_db()
    # A dermoscopy photo with no coin in it: said so, in words, instead of a size.
    assert analysis.measures["size"]["ok"] is False
    assert analysis.measures["size"]["reason"] == "no_reference"
    assert "coin" in analysis.measures["size"]["reason_text"]


def test_the_patients_own_coin_is_taken_at_upload(alice, lesion):
    with pytest.raises(ValidationError) as refused:
        services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), coin=services.COIN_MINE)
    assert "settings" in refused.value.message_dict["coin"][0]
    assert not lesion.photos.exists()

    user_coin_set(user=alice, coin="usd_25c")
    photo = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), coin=services.COIN_MINE)
    assert photo.coin_diameter_mm == 24.26
    other = services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), coin="other", coin_diameter_mm=21.0)
    assert other.coin_diameter_mm == 21.0
    assert services.photo_create(lesion=lesion, upload=upload(jpeg_bytes())).coin_diameter_mm is None


@pytest.mark.parametrize(
    ("coin", "mm", "field"),
    [("other", None, "coin_diameter_mm"), ("other", 300.0, "coin_diameter_mm"), ("doubloon", None, "coin")],
)
def test_an_unknown_coin_or_an_impossible_size_is_refused(lesion, coin, mm, field):
    with pytest.raises(ValidationError) as refused:
        services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), coin=coin, coin_diameter_mm=mm)
    assert field in refused.value.message_dict


def _ruler_jpeg(width: int = 800, height: int = 600) -> bytes:
    image = Image.new("RGB", (width, height), (235, 230, 220))
    draw = ImageDraw.Draw(image)
    for i in range(0, 60):
        x = 40 + i * 12  # a tick every 12 px: 1 mm
        draw.line([(x, 100), (x, 130 if i % 10 else 160)], fill=(20, 20, 20), width=2)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


def test_a_dermatoscope_is_calibrated_from_two_points_on_a_ruler_and_again_later(alice):
    # Points 50 ticks apart (600 px on an 800 px photo): 50 mm.
    points = [[40 / 800, 0.2], [640 / 800, 0.2]]
    device = services.dermatoscope_calibrate(
        user=alice, name="DermLite", upload=upload(_ruler_jpeg()), points=points, distance_mm=50.0
    )
    assert device.owner == alice and device.calibrated_width == 800
    assert device.mm_per_pixel == pytest.approx(50.0 / 600)
    assert 0 < device.relative_uncertainty < 0.01
    first_at = device.calibrated_at

    # The same device again (its name, or the dermatoscope itself): one row, new numbers.
    again = services.dermatoscope_calibrate(
        user=alice, name="DermLite", upload=upload(_ruler_jpeg()), points=points, distance_mm=40.0
    )
    assert again.pk == device.pk and again.mm_per_pixel == pytest.approx(40.0 / 600)
    third = services.dermatoscope_calibrate(
        user=alice, dermatoscope=again, upload=upload(_ruler_jpeg()), points=points, distance_mm=45.0
    )
    assert third.pk == device.pk and third.calibrated_at >= first_at
    assert Dermatoscope.objects.get().mm_per_pixel == pytest.approx(45.0 / 600)


def test_calibrating_without_a_ruler_in_the_photo_says_what_to_do(alice):
    with pytest.raises(ValidationError) as refused:
        services.dermatoscope_calibrate(user=alice, name="DermLite", upload=upload(jpeg_bytes((400, 300))))
    assert "mark two points" in refused.value.messages[0]
    assert not Dermatoscope.objects.exists()


def test_another_patients_dermatoscope_is_not_found_nor_usable(alice, bob, lesion):
    points = [[0.05, 0.2], [0.8, 0.2]]
    bobs = services.dermatoscope_calibrate(
        user=bob, name="Bob's", upload=upload(_ruler_jpeg()), points=points, distance_mm=50.0
    )
    with pytest.raises(Http404):
        services.dermatoscope_calibrate(
            user=alice, dermatoscope=bobs, upload=upload(_ruler_jpeg()), points=points, distance_mm=10.0
        )
    with pytest.raises(Http404):
        selectors.dermatoscope_get(user=alice, dermatoscope_id=bobs.pk)
    with pytest.raises(ValidationError) as refused:
        services.photo_create(lesion=lesion, upload=upload(jpeg_bytes()), device=bobs)
    assert "device" in refused.value.message_dict


def test_a_photo_through_a_calibrated_dermatoscope_is_measured_with_it(measured_again, alice, lesion):
    device = Dermatoscope.objects.create(
        owner=alice,
        name="DermLite",
        mm_per_pixel=0.02,
        relative_uncertainty=0.03,
        calibrated_width=600,
        calibrated_at=timezone.now(),
    )
    photo = services.photo_create(lesion=lesion, upload=upload(lesion_image("ISIC_0024314.jpg")))
    analysis = _measured(photo)
    with measured_again():
        services.photo_device_set(photo=photo, user=alice, device=device)

    analysis.refresh_from_db()
    size = analysis.measures["size"]
    assert size["ok"] and size["scale"]["source"] == "device"
    # Calibrated on photos 600 px wide; this one is 200 wide: three times the mm a pixel.
    assert size["long_mm"] == pytest.approx(_long_px(analysis, photo) * 0.06, rel=1e-3)
    error = size["long_mm"] * np.hypot(0.03, OUTLINE_RELATIVE_SD["long"])
    assert size["long_mm_error"] == pytest.approx(error, rel=0.01)


def _pair(lesion):
    original = lesion_image("ISIC_0024314.jpg")
    first = services.photo_create(lesion=lesion, upload=upload(original), taken_at=MARCH)
    later = services.photo_create(
        lesion=lesion, upload=upload(grown_and_darkened(original)), taken_at=MARCH + timedelta(days=180)
    )
    return first, later, _measured(first), _measured(later)


def _measures_changed(analysis: Analysis, photo_id: int) -> list[str]:
    comparison = next(c for c in analysis.change["comparisons"] if c["photo_id"] == photo_id)
    return [c["measure"] for c in comparison["changes"]]


def test_a_scale_set_later_reruns_the_lesions_change_detection(measured_again, alice, lesion, growth_counts):
    first, later, _, later_analysis = _pair(lesion)
    with measured_again():
        services.photo_scale_set(photo=first, user=alice, points=_points(first, 100), distance_mm=2.0)
        services.photo_scale_set(photo=later, user=alice, points=_points(later, 100), distance_mm=2.0)

    later_analysis.refresh_from_db()
    # Both in mm at one scale: the grown lesion's long diameter grew by millimetres; growth is the rule.
    comparison = later_analysis.change["comparisons"][0]
    assert comparison["growth_mm"] > 0.8
    assert SIZE in _measures_changed(later_analysis, first.pk)
    assert AREA not in _measures_changed(later_analysis, first.pk)
    assert later_analysis.change["changed"] and any(" mm " in s for s in later_analysis.change["sentences"])
    assert later_analysis.advice["changed"] is True

    # The first photo's scale corrected (it was ten times larger): now the lesion shrank in mm. The
    # later photo's stored change is computed again against it, as the worker would.
    with measured_again():
        services.photo_scale_set(photo=first, user=alice, points=_points(first, 100), distance_mm=20.0)
    later_analysis.refresh_from_db()
    assert later_analysis.change["comparisons"][0]["growth_mm"] < 0
    assert SIZE not in _measures_changed(later_analysis, first.pk)


def test_without_a_scale_on_both_photos_the_relative_rule_stays(measured_again, alice, lesion, growth_counts):
    first, later, _, later_analysis = _pair(lesion)
    with measured_again():
        services.photo_scale_set(photo=later, user=alice, points=_points(later, 100), distance_mm=2.0)
    later_analysis.refresh_from_db()
    comparison = later_analysis.change["comparisons"][0]
    assert comparison["growth_mm"] is None
    assert AREA in _measures_changed(later_analysis, first.pk)


def test_the_size_history_lists_the_photos_with_a_size(measured_again, alice, lesion):
    _, later, *_ = _pair(lesion)
    assert selectors.lesion_size_history(lesion) == []
    with measured_again():
        services.photo_scale_set(photo=later, user=alice, points=_points(later, 100), distance_mm=2.0)
    rows = selectors.lesion_size_history(lesion)
    assert [row["photo_id"] for row in rows] == [later.pk]
    row = rows[0]
    assert row["taken_on"] == later.taken_at.date() and row["source"] == "manual"
    assert row["long_mm"] > 0 and row["long_mm_error"] > 0 and row["wider_than_6mm"] in (True, False, None)


def test_the_physicians_report_holds_the_size_history(measured_again, alice, lesion):
    from sharing.selectors import report_sections

    _, later, *_ = _pair(lesion)
    assert report_sections(lesions=[lesion])[0].latest_size is None
    with measured_again():
        services.photo_scale_set(photo=later, user=alice, points=_points(later, 100), distance_mm=2.0)
    section = report_sections(lesions=[lesion])[0]
    assert section.sizes == selectors.lesion_size_history(lesion)
    assert section.latest_size is not None and section.latest_size["photo_id"] == later.pk


def test_a_stored_photo_of_a_ruler_calibrates_too_but_only_the_owners(alice, bob, done_photo):
    points = [[0.1, 0.5], [0.6, 0.5]]  # 100 px apart on the 200 px photo
    device = services.dermatoscope_calibrate(user=alice, name="Mine", photo=done_photo, points=points, distance_mm=5)
    assert device.mm_per_pixel == pytest.approx(5 / 100) and device.calibrated_width == done_photo.width
    with pytest.raises(Http404):
        services.dermatoscope_calibrate(user=bob, name="Bob's", photo=done_photo, points=points, distance_mm=5)
