"""Scales (manual, device, agreement), the lesion's size in mm, and growth as a change."""

import json
import math

import numpy as np
import pytest
import textstat

from measurement.describe import describe_change
from measurement.measures import LesionMeasures
from measurement.scale import (
    BAD_MANUAL_POINTS,
    COINS,
    ID1_CARD_MM,
    NO_OUTLINE,
    NO_REFERENCE,
    REASONS,
    Scale,
    agree,
    device_scale,
    manual_scale,
    refused,
)
from measurement.size import SIX_MM, feret, lesion_size, polygon_area, size_growth
from measurement.thresholds import AREA, SIZE, ChangeThresholds, detect_changes, load_thresholds


def _circle(cx: float, cy: float, r: float, n: int = 120) -> list[list[float]]:
    return [[cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n)] for k in range(n)]


def _exact(mm_per_pixel: float, rel: float = 0.0) -> Scale:
    return Scale(ok=True, source="manual", mm_per_pixel=mm_per_pixel, relative_uncertainty=rel)


def test_coin_table_holds_official_diameters_with_plain_labels():
    assert COINS["eur_1"] == ("1 euro", 23.25)
    assert COINS["eur_2"][1] == 25.75 and COINS["usd_25c"][1] == 24.26 and COINS["gbp_1p"][1] == 20.30
    assert COINS["brl_1"][1] == 27.00 and COINS["chf_5"][1] == 31.45 and COINS["cad_2"][1] == 28.00
    assert all(15.0 < mm < 35.0 and label for label, mm in COINS.values())
    assert ID1_CARD_MM == (85.60, 53.98)


def test_every_reason_is_plain_words_a_13_year_old_follows():
    # the measure of skinsite/tests/test_plain_words.py: Flesch-Kincaid grade 8 at most, no engineering words
    for text in REASONS.values():
        assert text.endswith(".") and textstat.flesch_kincaid_grade(text) <= 8.0
        assert "calibrat" not in text.lower() and "pixel" not in text.lower()


def test_scale_round_trips_through_json():
    scale = Scale(
        ok=True,
        source="coin",
        mm_per_pixel=0.05,
        relative_uncertainty=0.02,
        reference={"kind": "coin", "centre": [0.25, 0.5], "radius_x": 0.1},
    )
    data = json.loads(json.dumps(scale.as_dict()))
    assert Scale.from_dict(data) == scale
    assert data["reason_text"] == ""
    refusal = refused(NO_REFERENCE)
    assert Scale.from_dict(json.loads(json.dumps(refusal.as_dict()))) == refusal
    assert refusal.as_dict()["reason_text"] == REASONS[NO_REFERENCE]


def test_manual_scale_from_two_points_and_their_distance():
    scale = manual_scale([[0.1, 0.5], [0.6, 0.5]], 20.0, width=1000, height=800)
    assert scale.ok and scale.source == "manual"
    assert scale.mm_per_pixel == pytest.approx(20.0 / 500)
    assert scale.relative_uncertainty == pytest.approx(1.5 * math.sqrt(2) / 500)
    assert scale.reference == {"kind": "manual", "points": [[0.1, 0.5], [0.6, 0.5]]}


@pytest.mark.parametrize(
    "points,distance",
    [
        ([[0.1, 0.5], [0.1005, 0.5]], 10.0),  # half a pixel apart
        ([[0.1, 0.5], [0.6, 0.5]], 0.0),
        ([[0.1, 0.5], [0.6, 0.5]], float("nan")),
        ([[0.1, 0.5], [1.6, 0.5]], 10.0),
        ([[0.1, 0.5]], 10.0),
        ([[0.1, 0.5], [0.2, 0.5], [0.3, 0.5]], 10.0),
        ([["a", 0.5], [0.6, 0.5]], 10.0),
    ],
)
def test_bad_manual_points_are_refused(points, distance):
    scale = manual_scale(points, distance, width=1000, height=800)
    assert not scale.ok and scale.reason == BAD_MANUAL_POINTS and scale.mm_per_pixel is None


def test_device_scale_rescales_by_the_photos_width():
    scale = device_scale(0.01, 0.03, calibrated_width=4000, width=2000)
    assert scale.ok and scale.source == "device"
    assert scale.mm_per_pixel == pytest.approx(0.02) and scale.relative_uncertainty == 0.03
    assert not device_scale(0.0, 0.03, calibrated_width=4000, width=2000).ok


def test_scales_agree_within_two_combined_standard_deviations():
    device = _exact(0.0200, 0.02)
    assert agree(_exact(0.0205, 0.02), device)
    assert not agree(_exact(0.0240, 0.02), device)
    assert agree(refused(NO_REFERENCE), device)


def test_feret_and_area_of_a_rectangle():
    points = [[0, 0], [40, 0], [40, 30], [0, 30]]

    array = np.asarray(points, dtype=float)
    longest, across, _ = feret(array)
    assert longest == pytest.approx(50.0)
    assert across == pytest.approx(2 * 40 * 30 / 50)  # the rectangle's width perpendicular to its diagonal
    assert polygon_area(array) == pytest.approx(1200.0)


def test_lesion_size_of_a_circle_in_mm():
    # A circle 0.2 of a 1000 px wide photo across = 200 px; at 0.04 mm/px: 8 mm across.
    outline = [[x, y] for x, y in _circle(0.5, 0.5, 0.1)]
    size = lesion_size(outline, width=1000, height=1000, scale=_exact(0.04, 0.02))
    assert size["ok"] and size["reason"] is None
    assert size["long_mm"] == pytest.approx(8.0, rel=0.01)
    assert size["short_mm"] == pytest.approx(8.0, rel=0.01)
    assert size["area_mm2"] == pytest.approx(math.pi * 16.0, rel=0.01)
    assert 0.02 * 8.0 < size["long_mm_error"] < 0.2 * 8.0
    assert size["area_mm2_error"] / size["area_mm2"] > size["long_mm_error"] / size["long_mm"]
    assert size["wider_than_6mm"] is True
    assert json.loads(json.dumps(size)) == size


def test_outline_in_fractions_of_a_wide_photo_uses_both_sides():
    # An ellipse drawn as a circle in fractions of a 2:1 photo is twice as wide as it is high.
    outline = _circle(0.5, 0.5, 0.1)
    size = lesion_size(outline, width=2000, height=1000, scale=_exact(0.01))
    assert size["long_mm"] == pytest.approx(4.0, rel=0.01)
    assert size["short_mm"] == pytest.approx(2.0, rel=0.01)


def test_six_mm_flag_is_none_when_six_lies_within_the_uncertainty():
    outline = _circle(0.5, 0.5, 0.1)
    assert lesion_size(outline, width=1000, height=1000, scale=_exact(0.0301, 0.02))["wider_than_6mm"] is None
    assert lesion_size(outline, width=1000, height=1000, scale=_exact(0.02, 0.02))["wider_than_6mm"] is False
    # a wide uncertainty keeps even an 8 mm lesion undecided
    assert lesion_size(outline, width=1000, height=1000, scale=_exact(0.04, 0.2))["wider_than_6mm"] is None
    assert SIX_MM == 6.0


def test_no_scale_or_no_outline_gives_a_reason_and_no_numbers():
    size = lesion_size(_circle(0.5, 0.5, 0.1), width=100, height=100, scale=refused(NO_REFERENCE))
    assert not size["ok"] and size["reason"] == NO_REFERENCE and size["reason_text"] == REASONS[NO_REFERENCE]
    assert size["long_mm"] is None and size["wider_than_6mm"] is None
    for outline in ([], [[0.1, 0.1], [0.2, 0.2]], [[0.1, 0.1], [0.1, 0.1], [0.1, 0.1]], None):
        size = lesion_size(outline, width=100, height=100, scale=_exact(0.05))
        assert not size["ok"] and size["reason"] == NO_OUTLINE


def test_size_growth_needs_two_measured_sizes():
    earlier = lesion_size(_circle(0.5, 0.5, 0.1), width=1000, height=1000, scale=_exact(0.025))
    later = lesion_size(_circle(0.5, 0.5, 0.1), width=1000, height=1000, scale=_exact(0.03))
    assert size_growth(earlier, later) == pytest.approx(1.0, rel=0.01)
    assert size_growth(None, later) is None
    assert size_growth(earlier, lesion_size([], width=10, height=10, scale=refused(NO_REFERENCE))) is None


def test_growth_beyond_the_threshold_is_a_size_change_in_plain_words():
    thresholds = ChangeThresholds(
        asymmetry=1, border_irregularity=1, new_colours=9, area_ratio=1.25, long_diameter_growth_mm=0.8
    )
    before = LesionMeasures(asymmetry=0.1, border_irregularity=1.5, colours=("light brown",))
    small = lesion_size(_circle(0.5, 0.5, 0.1), width=1000, height=1000, scale=_exact(0.025))  # 5 mm
    grown = lesion_size(_circle(0.5, 0.5, 0.1), width=1000, height=1000, scale=_exact(0.03))  # 6 mm
    slightly = lesion_size(_circle(0.5, 0.5, 0.1), width=1000, height=1000, scale=_exact(0.0275))  # 5.5 mm
    changes = detect_changes(before, before, thresholds, relative_area=1.3, earlier_size=small, later_size=grown)
    assert [c.measure for c in changes] == [AREA, SIZE]
    assert changes[1].earlier == pytest.approx(5.0, rel=0.01) and changes[1].later == pytest.approx(6.0, rel=0.01)
    assert detect_changes(before, before, thresholds, earlier_size=small, later_size=slightly) == []
    assert detect_changes(before, before, thresholds, earlier_size=grown, later_size=small) == []  # shrinking
    uncalibrated = ChangeThresholds(asymmetry=1, border_irregularity=1, new_colours=9, area_ratio=1.25)
    assert detect_changes(before, before, uncalibrated, earlier_size=small, later_size=grown) == []
    (sentence,) = describe_change([changes[1]])
    assert "6.0 mm" in sentence and "1.0 mm wider" in sentence


def test_committed_growth_threshold_comes_from_the_size_study():
    thresholds = load_thresholds()
    assert thresholds.long_diameter_growth_mm is not None and 0.1 < thresholds.long_diameter_growth_mm < 5.0
    assert thresholds.size_provenance["study"] == "python -m evaluation.size_study"
    assert thresholds.size_provenance["repeat_pairs"] >= 10
