"""The lesion-answer study's measures on made-up series whose answers are known."""

import random

from evaluation.lesion_answer import answers, choose_rule, rule_measures, rules, spliced_change

CUTS = {"medium": 0.1, "high": 0.4}
RULES = rules()


def test_answers_use_the_last_photos_since_a_reset():
    highest, window = RULES["max, last 3"]
    assert answers([0.5, 0.1, 0.1, 0.1], highest, window) == [0.5, 0.5, 0.5, 0.1]
    assert answers([0.5, 0.1, 0.2], highest, window, resets=[False, True, False]) == [0.5, 0.1, 0.2]


def test_a_noisy_lesion_flips_less_with_the_highest_and_is_never_talked_down():
    # A malignant lesion whose photos alternate low and high: single photos flip at every step.
    series = [(True, [0.05, 0.5, 0.05, 0.5])]
    single = rule_measures(series, *RULES["latest photo"], CUTS)
    highest = rule_measures(series, *RULES["max, last 3"], CUTS)
    mean = rule_measures(series, *RULES["mean probability, last 3"], CUTS)
    assert single["flip_rate"] == 1.0 and highest["flip_rate"] == round(1 / 3, 4)  # low, then high for good
    assert highest["malignant"]["below_latest_photo"] == 0.0
    assert mean["malignant"]["below_latest_photo"] > 0  # (0.05 + 0.5) / 2 is medium after a high photo


def test_the_chosen_rule_keeps_sensitivity_then_flips_least():
    series = [(True, [0.05, 0.5, 0.05, 0.5])]  # every mean or median answers it lower than single photos
    measures = {name: rule_measures(series, rule, window, CUTS) for name, (rule, window) in RULES.items()}
    assert choose_rule(measures, {name: window for name, (_, window) in RULES.items()}) == "max, last 2"


def test_a_rule_that_talks_a_malignant_lesion_down_is_never_chosen():
    # The mean flips least and keeps the shares of malignant answers at medium+ and at high, but answers 2 % of
    # them below their latest photo's band: the highest, flipping a little more, is chosen.
    def measured(flips: float, below: float) -> dict:
        return {
            "flip_rate": flips,
            "malignant": {"medium_or_high": 0.99, "high": 0.75, "below_latest_photo": below},
            "benign": {"high": 0.2},
        }

    measures = {
        "latest photo": measured(0.2, 0.0),
        "mean, last 3": measured(0.080, 0.02),
        "max, last 3": measured(0.084, 0.0),
    }
    assert choose_rule(measures, {"latest photo": 1, "mean, last 3": 3, "max, last 3": 3}) == "max, last 3"


def test_a_real_change_reaches_the_changed_photos_band_once_reset():
    mean, window = RULES["mean probability, last 3"]
    result = spliced_change([[0.01, 0.01]], [[0.6, 0.6]], mean, window, CUTS, 0.3, random.Random(0))
    assert result["change_measured"] == 1.0
    assert result["reaches_photo_band_without_reset"] == 0.0  # (0.01 + 0.01 + 0.6) / 3 is medium
    assert result["reaches_photo_band_with_reset"] == 1.0
