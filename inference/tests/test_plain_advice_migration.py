"""Advice stored before the plain words is reworded by migration 0004 into exactly what `advice_for` now writes."""

import importlib

import pytest

from inference.advice import advice_for
from inference.tests.test_advice import CARD

migration = importlib.import_module("inference.migrations.0004_plain_advice_words")

# What advice_for stored before (inference/advice.py at 178bd1b), for a low, medium and high photo, each
# also after a measured change, and without operating points.
OLD_TEXTS = {
    "low": (
        "The model's chance of a malignant type is below the level at which it finds {sensitivity:.0%} of "
        "malignant lesions on validation photos. Keep photographing it every 3 months so that any change shows."
    ),
    "medium": (
        "The model's chance of a malignant type is at or above the level at which it finds {sensitivity:.0%} "
        "of malignant lesions on validation photos (and {specificity:.0%} of benign ones are below it)."
    ),
    "high": (
        "The model's chance of a malignant type is at or above the level that {specificity:.0%} of benign "
        "lesions stay below on validation photos (it finds {sensitivity:.0%} of malignant ones there)."
    ),
}
OLD_CHANGE = " The lesion also changed measurably between photos, which raises the advice by one level."


def _old(probability: float, changed: bool) -> dict:
    new = advice_for(malignant_probability=probability, card=CARD, changed=changed)
    before = (
        {"medium": "low", "high": "medium" if probability < 0.3 else "high"}[new["band"]] if changed else new["band"]
    )
    text = OLD_TEXTS[before].format(**new["based_on"]) + (OLD_CHANGE if changed else "")
    return new | {"title": "old title", "text": text}


@pytest.mark.parametrize("probability", [0.01, 0.07, 0.4])
@pytest.mark.parametrize("changed", [False, True])
def test_old_advice_is_reworded_as_advice_for_writes_it_now(probability, changed):
    old = _old(probability, changed)
    assert "validation photos" in old["text"]
    assert migration._reworded(old) == advice_for(malignant_probability=probability, card=CARD, changed=changed)


def test_advice_without_a_band_is_reworded_and_an_unknown_one_left_alone():
    none = advice_for(malignant_probability=0.5, card=None)
    assert migration._reworded(none | {"text": "old"}) == none
    assert migration._reworded({"band": "high", "based_on": None, "text": "x"}) is None
