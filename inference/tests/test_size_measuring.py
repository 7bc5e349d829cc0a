"""The lesion's size in mm as the worker stores it (inference.measuring.photo_size), and growth in mm in
change detection (compare_measured). Pure: no database, no model."""

import dataclasses
from datetime import date

import pytest
from PIL import Image

from inference import measuring
from inference.measuring import DeviceHint, MeasuredPhoto, ScaleHints, compare_measured, photo_size
from measurement.scale import Scale
from measurement.thresholds import AREA, SIZE, load_thresholds

# A 120 x 90 px rectangle on a 600 x 450 photo: its longest diameter is the diagonal, 150 px.
OUTLINE = [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]]
MEASURES = {"ok": True, "outline": OUTLINE}
# Two points 100 px apart, 10 mm: 0.1 mm a pixel.
MANUAL = {"points": [[0.1, 0.1], [0.1 + 100 / 600, 0.1]], "distance_mm": 10.0}


@pytest.fixture
def skin() -> Image.Image:
    return Image.new("RGB", (600, 450), (200, 160, 140))


def _coin_found(mm_per_pixel: float, uncertainty: float = 0.02):
    def find_scale(image, *, coin_diameter_mm=None, lesion_mask=None):
        assert coin_diameter_mm == 23.25 and lesion_mask is not None and lesion_mask.shape == image.size[::-1]
        return Scale(True, "coin", mm_per_pixel, uncertainty, None, {"kind": "coin", "centre": [0.8, 0.5]})

    return find_scale


def test_two_marked_points_give_the_size_in_mm(skin):
    size = photo_size(skin, MEASURES, ScaleHints(width=600, height=450, manual=MANUAL))
    assert size["ok"] and size["reason"] is None
    assert size["scale"]["source"] == "manual"
    assert size["long_mm"] == pytest.approx(15.0, rel=1e-3)
    assert size["short_mm"] == pytest.approx(14.4, rel=1e-3)  # across the diagonal: 2 * 120 * 90 / 150 px
    assert 0 < size["long_mm_error"] < 0.2 * size["long_mm"]
    assert size["wider_than_6mm"] is True


def test_marked_points_win_over_the_dermatoscope_and_a_coin(skin, monkeypatch):
    monkeypatch.setattr(measuring, "find_scale", _coin_found(0.5))
    hints = ScaleHints(width=600, height=450, manual=MANUAL, coin_diameter_mm=23.25, device=DeviceHint(0.3, 0.02, 600))
    assert photo_size(skin, MEASURES, hints)["long_mm"] == pytest.approx(15.0, rel=1e-3)


def test_the_dermatoscope_gives_the_scale_when_nothing_is_found(skin):
    # Calibrated at 0.1 mm a pixel on photos 1200 px wide: this one is 600 wide, 0.2 mm a pixel.
    size = photo_size(skin, MEASURES, ScaleHints(width=600, height=450, device=DeviceHint(0.1, 0.03, 1200)))
    assert size["ok"], size
    assert size["scale"]["source"] == "device"
    assert size["long_mm"] == pytest.approx(30.0, rel=1e-3)


def test_a_coin_found_on_a_smaller_decoding_is_stated_in_the_stored_photo_pixels(monkeypatch):
    # The worker finds the coin on the photo decoded at half size: 0.2 mm a decoded pixel is 0.1 a stored one.
    monkeypatch.setattr(measuring, "find_scale", _coin_found(0.2))
    half = Image.new("RGB", (300, 225), (200, 160, 140))
    size = photo_size(half, MEASURES, ScaleHints(width=600, height=450, coin_diameter_mm=23.25))
    assert size["scale"]["mm_per_pixel"] == pytest.approx(0.1)
    assert size["long_mm"] == pytest.approx(15.0, rel=1e-3)


def test_a_coin_that_disagrees_with_the_dermatoscope_is_kept_and_flagged(skin, monkeypatch):
    monkeypatch.setattr(measuring, "find_scale", _coin_found(0.1))
    hints = ScaleHints(width=600, height=450, coin_diameter_mm=23.25, device=DeviceHint(0.2, 0.02, 600))
    size = photo_size(skin, MEASURES, hints)
    assert size["ok"] and size["scale"]["source"] == "coin"
    assert size["reason"] == "disagrees_with_device" and "dermatoscope" in size["reason_text"]
    assert size["long_mm"] == pytest.approx(15.0, rel=1e-3)


def test_a_coin_that_agrees_with_the_dermatoscope_carries_no_warning(skin, monkeypatch):
    monkeypatch.setattr(measuring, "find_scale", _coin_found(0.1))
    hints = ScaleHints(width=600, height=450, coin_diameter_mm=23.25, device=DeviceHint(0.101, 0.02, 600))
    size = photo_size(skin, MEASURES, hints)
    assert size["ok"] and size["reason"] is None and size["scale"]["source"] == "coin"


def test_no_reference_and_no_dermatoscope_is_no_size_with_the_reason(skin):
    size = photo_size(skin, MEASURES, ScaleHints(width=600, height=450))
    assert size["ok"] is False and size["reason"] == "no_reference"
    assert size["long_mm"] is None and "coin, card or ruler" in size["reason_text"]


def test_an_outline_that_was_not_trusted_gives_no_size(skin):
    size = photo_size(skin, {"ok": False, "outline": OUTLINE}, ScaleHints(width=600, height=450, manual=MANUAL))
    assert size["ok"] is False and size["reason"] == "no_outline"
    assert size["scale"]["ok"] is True  # the scale is still there for the photo page


def test_a_size_that_breaks_says_so_and_never_raises(skin, monkeypatch):
    def broken(image, **kwargs):
        raise MemoryError

    monkeypatch.setattr(measuring, "find_scale", broken)
    size = photo_size(skin, MEASURES, ScaleHints(width=600, height=450, coin_diameter_mm=23.25))
    assert size["ok"] is False and size["reason"] == "error" and size["error"] == "MemoryError"


def _side(photo_id: int, long_mm: float | None, taken_on: date) -> MeasuredPhoto:
    size = None
    if long_mm is not None:
        size = {"ok": True, "long_mm": long_mm, "long_mm_error": 0.2}
    return MeasuredPhoto(photo_id, taken_on, {"ok": False, "values": None, "size": size}, None, None)


@pytest.fixture
def thresholds():
    return dataclasses.replace(load_thresholds(), long_diameter_growth_mm=0.8)


def test_growth_in_mm_beyond_the_threshold_is_a_change(thresholds):
    result = compare_measured(
        _side(1, 4.9, date(2026, 3, 1)), _side(2, 5.8, date(2026, 9, 1)), thresholds, kind="previous"
    )
    assert [c["measure"] for c in result["changes"]] == [SIZE]
    assert result["growth_mm"] == pytest.approx(0.9)
    assert any("5.8 mm" in s for s in result["sentences"])


def test_growth_within_the_repeat_photo_noise_is_no_change(thresholds):
    result = compare_measured(
        _side(1, 4.9, date(2026, 3, 1)), _side(2, 5.5, date(2026, 9, 1)), thresholds, kind="previous"
    )
    assert result["changes"] == [] and result["growth_mm"] == pytest.approx(0.6)


def test_without_a_size_on_both_photos_there_is_no_growth_in_mm(thresholds):
    result = compare_measured(
        _side(1, None, date(2026, 3, 1)), _side(2, 9.0, date(2026, 9, 1)), thresholds, kind="first"
    )
    assert result["growth_mm"] is None and SIZE not in [c["measure"] for c in result["changes"]]


def test_with_sizes_in_mm_the_area_ratio_is_not_the_rule(thresholds, monkeypatch):
    # Aligned photos whose area ratio says "7 times larger" (a closer camera does that) while the
    # millimetres say the lesion kept its size: no change. Without the sizes, the area ratio decides.
    from measurement.alignment import Alignment

    aligned = Alignment(True, None, None, 1.0, 0.0, (0.0, 0.0), 50, 60)
    monkeypatch.setattr(measuring, "align_features", lambda a, b: aligned)
    monkeypatch.setattr(measuring, "relative_area", lambda a, b, scale: 7.0)
    values = {
        "asymmetry": 0.1,
        "border_irregularity": 1.1,
        "colours": ["dark brown"],
        "colour_count": 1,
        "colour_shares": {"dark brown": 1.0},
        "area_pixels": 1000,
    }
    features = object()

    def side(photo_id, long_mm):
        size = {"ok": True, "long_mm": long_mm, "long_mm_error": 0.2} if long_mm else None
        return MeasuredPhoto(
            photo_id, date(2026, 3, photo_id), {"ok": True, "values": values, "size": size}, None, features
        )

    sized = compare_measured(side(1, 5.0), side(2, 5.1), thresholds, kind="previous")
    assert sized["relative_area"] == 7.0 and sized["changes"] == []
    unsized = compare_measured(side(1, None), side(2, None), thresholds, kind="previous")
    assert [c["measure"] for c in unsized["changes"]] == [AREA]


def test_until_the_growth_threshold_is_measured_the_area_ratio_stays_the_rule(monkeypatch):
    from measurement.alignment import Alignment

    aligned = Alignment(True, None, None, 1.0, 0.0, (0.0, 0.0), 50, 60)
    monkeypatch.setattr(measuring, "align_features", lambda a, b: aligned)
    monkeypatch.setattr(measuring, "relative_area", lambda a, b, scale: 7.0)
    values = {"asymmetry": 0.1, "border_irregularity": 1.1, "colours": [], "colour_shares": {}, "area_pixels": 1000}
    size = {"ok": True, "long_mm": 5.0, "long_mm_error": 0.2}
    unset = dataclasses.replace(load_thresholds(), long_diameter_growth_mm=None)
    sides = [
        MeasuredPhoto(i, date(2026, 3, i), {"ok": True, "values": values, "size": size}, None, object()) for i in (1, 2)
    ]
    result = compare_measured(*sides, unset, kind="previous")
    assert result["growth_mm"] == 0.0 and [c["measure"] for c in result["changes"]] == [AREA]


def _coin_at(x: float, y: float) -> Scale:
    return Scale(True, "coin", 0.1, 0.02, None, {"kind": "coin", "centre": [x, y], "radius_x": 0.05})


def test_a_coin_found_clear_of_the_lesion_is_not_looked_for_again(skin, monkeypatch):
    def never(image, **kwargs):
        raise AssertionError("looked for again")

    monkeypatch.setattr(measuring, "find_scale", never)
    hints = ScaleHints(width=600, height=450, coin_diameter_mm=23.25)
    size = photo_size(skin, MEASURES, hints, found=_coin_at(0.85, 0.5))
    assert size["ok"] and size["scale"]["source"] == "coin" and size["long_mm"] == pytest.approx(15.0, rel=1e-3)


def test_a_coin_found_over_the_lesion_is_looked_for_again_with_the_lesion_known(skin, monkeypatch):
    asked = []

    def with_mask(image, *, coin_diameter_mm=None, lesion_mask=None):
        asked.append(lesion_mask)
        return Scale(False, "coin", None, None, "coin_over_lesion", {})

    monkeypatch.setattr(measuring, "find_scale", with_mask)
    hints = ScaleHints(width=600, height=450, coin_diameter_mm=23.25)
    size = photo_size(skin, MEASURES, hints, found=_coin_at(0.5, 0.5))
    assert len(asked) == 1 and asked[0] is not None and asked[0].any()
    assert size["ok"] is False and size["reason"] == "coin_over_lesion"
