"""Change thresholds: what is called a change, the committed thresholds, the study's calibration, the words."""

from datetime import date, timedelta

import pytest

from evaluation.change_study import choose_thresholds, false_alarms
from measurement.describe import describe_change
from measurement.measures import LesionMeasures
from measurement.thresholds import (
    AREA,
    ASYMMETRY,
    BORDER,
    COLOURS,
    MALIGNANT,
    ChangeThresholds,
    detect_changes,
    load_thresholds,
)

THRESHOLDS = ChangeThresholds(
    asymmetry=0.1, border_irregularity=0.3, new_colours=1, area_ratio=1.25, malignant_probability=0.15
)
BEFORE = LesionMeasures(asymmetry=0.1, border_irregularity=1.5, colours=("light brown", "dark brown"))


def test_unchanged_lesion_has_no_change():
    assert (
        detect_changes(BEFORE, BEFORE, THRESHOLDS, relative_area=1.1, earlier_probability=0.2, later_probability=0.3)
        == []
    )


def test_each_measure_past_its_threshold_is_a_change():
    after = LesionMeasures(asymmetry=0.25, border_irregularity=1.9, colours=("light brown", "dark brown", "blue-grey"))
    changes = detect_changes(
        BEFORE, after, THRESHOLDS, relative_area=1.3, earlier_probability=0.1, later_probability=0.4
    )
    assert [c.measure for c in changes] == [ASYMMETRY, BORDER, COLOURS, AREA, MALIGNANT]
    assert changes[2].colours_added == ("blue-grey",)


def test_a_shrinking_lesion_is_a_change_and_a_lost_colour_is_not():
    after = LesionMeasures(asymmetry=0.1, border_irregularity=1.5, colours=("light brown",))
    assert [c.measure for c in detect_changes(BEFORE, after, THRESHOLDS, relative_area=0.7)] == [AREA]


def test_what_cannot_be_measured_is_never_a_change():
    assert detect_changes(None, BEFORE, THRESHOLDS, relative_area=None, earlier_probability=0.1) == []
    uncalibrated = ChangeThresholds(asymmetry=0.1, border_irregularity=0.3, new_colours=1, area_ratio=1.25)
    assert detect_changes(BEFORE, BEFORE, uncalibrated, earlier_probability=0.0, later_probability=1.0) == []


def test_committed_thresholds_load_and_were_measured_within_the_target():
    thresholds = load_thresholds()
    assert thresholds.asymmetry > 0 and thresholds.border_irregularity > 0
    assert thresholds.new_colours >= 1 and thresholds.area_ratio > 1
    assert thresholds.provenance["pairs"] >= 500
    assert thresholds.provenance["false_alarm_rate_validation"] <= 0.05


def test_calibration_keeps_the_union_of_false_alarms_under_the_target():
    # 200 pairs: two independent noisy measures; each alone at 4% would give ~8% together.
    pairs = [{"a": (i * 37) % 200 / 200, "b": (i * 91) % 200 / 200} for i in range(200)]
    alpha, thresholds = choose_thresholds(pairs, ["a", "b"], target=0.05)
    rates = false_alarms(pairs, thresholds)
    assert rates["any"] <= 0.05
    assert alpha < 0.05  # each measure had to be stricter than the target


def test_describe_change_in_plain_words():
    after = LesionMeasures(asymmetry=0.3, border_irregularity=2.0, colours=("light brown", "dark brown", "blue-grey"))
    changes = detect_changes(
        BEFORE, after, THRESHOLDS, relative_area=1.31, earlier_probability=0.1, later_probability=0.4
    )
    march = date.today() - timedelta(days=60)
    sentences = describe_change(changes, earlier_date=march)
    month = f"{march:%B}"
    assert sentences == [
        f"The shape is less symmetrical than in {month}.",
        f"The outline is more irregular than in {month}.",
        f"A new colour (blue-grey) appears that was not there in {month}.",
        f"The lesion is about 30% larger than in {month}.",
        f"The model's estimate that it is a malignant type rose from 10% to 40% since {month}.",
    ]


@pytest.mark.parametrize(("ratio", "words"), [(0.7, "about 30% smaller"), (1.52, "about 50% larger")])
def test_area_change_is_rounded_to_five_percent(ratio, words):
    changes = detect_changes(None, None, THRESHOLDS, relative_area=ratio)
    (sentence,) = describe_change(changes, earlier_date=date(2020, 3, 1))
    assert words in sentence and "in March 2020" in sentence
