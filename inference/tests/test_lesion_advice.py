"""A lesion's answer: the highest of its last photos since a measured change, not each photo's own."""

from dataclasses import dataclass
from typing import Any

from inference.advice import LESION_WINDOW, changed_since_previous, lesion_advice
from inference.tests.test_advice import CARD  # medium from 0.05, high from 0.3


@dataclass
class Result:
    malignant_probability: float | None
    change: Any = None


CHANGED = {
    "changed": True,
    "sentences": ["The chance of a malignant type rose."],
    "comparisons": [{"kind": "previous", "changes": [{"measure": "malignant_probability"}]}],
}
# Changed only against the first photo: every photo after a real change is, and must not restart the answer.
CHANGED_SINCE_FIRST = {
    "changed": True,
    "sentences": ["The lesion is larger than in March."],
    "comparisons": [{"kind": "previous", "changes": []}, {"kind": "first", "changes": [{"measure": "area"}]}],
}


def bands(probabilities: list[float]) -> list[str]:
    """The lesion's band after each photo, as a patient would read them one after another."""
    return [
        lesion_advice(analyses=[Result(p) for p in probabilities[: t + 1]], card=CARD)["band"]
        for t in range(len(probabilities))
    ]


def test_no_assessable_photo_gives_no_answer():
    assert lesion_advice(analyses=[], card=CARD) is None
    assert lesion_advice(analyses=[Result(None)], card=CARD) is None


def test_a_noisy_unchanged_lesion_keeps_its_band_where_single_photos_flip():
    # The melanoma: 51 % -> 30 % -> 55 % -> 41 % (single bands high, medium, high, high).
    assert bands([0.51, 0.20, 0.55, 0.41]) == ["high", "high", "high", "high"]


def test_the_answer_is_never_below_the_latest_photos_band():
    for probabilities in ([0.01, 0.02, 0.9], [0.2, 0.01, 0.01], [0.04, 0.06, 0.31]):
        answer = lesion_advice(analyses=[Result(p) for p in probabilities], card=CARD)
        assert (
            answer["band"]
            in {"high": ["high"], "medium": ["medium", "high"], "low": ["low", "medium", "high"]}[answer["latest_band"]]
        )


def test_only_the_last_photos_count():
    old_high = [0.6] + [0.01] * LESION_WINDOW
    answer = lesion_advice(analyses=[Result(p) for p in old_high], card=CARD)
    assert answer["band"] == "low" and answer["photos"] == LESION_WINDOW


def test_a_measured_change_starts_the_answer_again_and_raises_it():
    # High twice, then a photo that changed measurably (say it shrank after treatment) and is low:
    # the earlier photos no longer count, and the change raises the low band by one.
    answer = lesion_advice(analyses=[Result(0.6), Result(0.6), Result(0.01, CHANGED)], card=CARD)
    assert answer["photos"] == 1 and answer["malignant_probability"] == 0.01
    assert answer["band"] == "medium" and answer["changed"]


def test_a_change_since_the_first_photo_only_does_not_restart_it():
    assert not changed_since_previous(CHANGED_SINCE_FIRST)
    assert changed_since_previous(CHANGED)
    answer = lesion_advice(analyses=[Result(0.4), Result(0.02, CHANGED_SINCE_FIRST)], card=CARD)
    assert answer["photos"] == 2 and answer["malignant_probability"] == 0.4


def test_without_operating_points_there_is_no_band():
    answer = lesion_advice(analyses=[Result(0.9)], card={"version": "x"})
    assert answer["band"] is None
