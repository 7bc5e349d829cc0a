"""The per-photo-type advice thresholds: the selection rule on synthetic scores."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from training.advice_points import (
    high_threshold,
    hits_needed,
    medium_threshold,
    points_by_photo_type,
    type_points,
    wilson_lower,
)


def test_the_wilson_margin_asks_more_of_a_small_source():
    assert wilson_lower(9, 10) < 0.9 < 0.9 + 1e-9 <= wilson_lower(1000, 1000)
    assert hits_needed(13) == 13  # ISIC 2017's 13 melanomas: every one must be found
    assert hits_needed(16) == 16
    assert 0.90 < hits_needed(1000) / 1000 < 0.92  # a large source: a little above 90 %
    assert hits_needed(0) is None and hits_needed(5) is None  # too few to show 90 % at all
    assert wilson_lower(0, 0) == 0.0


def test_medium_holds_on_the_worst_source_not_the_pooled_one():
    rng = np.random.default_rng(0)
    large = rng.uniform(0.3, 1.0, 500)  # every malignant photo of the large source scores >= 0.3
    small = np.array([0.02, *rng.uniform(0.5, 1.0, 19)])  # one of the small source's 20 scores 0.02
    threshold = medium_threshold({"large": large, "small": small})
    found_small = (small >= threshold).mean()
    assert found_small == 1.0  # 19 of 20 is not enough for a 20-photo source with the margin
    assert threshold <= 0.02
    # Pooled, 519 of 520 would have allowed far higher thresholds:
    pooled = np.concatenate([large, small])
    assert (pooled >= 0.29).mean() > 0.99


def test_medium_is_the_highest_threshold_that_holds():
    scores = {"a": np.linspace(0.1, 0.9, 200), "b": np.linspace(0.2, 0.8, 150)}
    threshold = medium_threshold(scores)
    for values in scores.values():
        assert wilson_lower(int((values >= threshold).sum()), len(values)) >= 0.9
    higher = threshold + 1e-3
    assert any(wilson_lower(int((v >= higher).sum()), len(v)) < 0.9 for v in scores.values())


def test_high_starts_where_ninety_percent_of_pooled_benign_lie_below():
    benign = np.arange(100) / 100  # 0.00 .. 0.99
    threshold = high_threshold(benign)
    assert (benign < threshold).mean() >= 0.9
    assert (benign < threshold - 2e-4).mean() < 0.9
    assert high_threshold(np.zeros(10)) > 0.0  # all benign at zero: just above it


def test_type_points_report_each_source_and_quote_the_worst():
    malignant = {"a": np.full(30, 0.6), "b": np.array([0.3] * 25 + [0.7] * 25)}
    benign = {"a": np.linspace(0, 0.5, 100), "b": np.linspace(0, 0.2, 100)}
    points = type_points(malignant, benign)
    medium, high = points["medium"], points["high"]
    assert medium["threshold"] <= 0.3 and medium["threshold"] <= high["threshold"]
    assert medium["sensitivity"] == min(s["sensitivity"] for s in medium["sources"].values()) == 1.0
    assert high["sources"]["b"]["sensitivity"] == 0.5  # half of b's malignant photos reach high
    assert high["sources"]["b"]["specificity"] == 1.0 and high["sources"]["a"]["specificity"] < 0.9
    assert abs(high["specificity"] - 0.9) < 0.01  # pooled


def _rows(source, photo_type, malignant, scores, detected=None, split="val", assessable="1"):
    return [
        {
            "source": source,
            "split": split,
            "photo_type": photo_type,
            "detected_type": detected or photo_type,
            "assessable": assessable,
            "malignant": str(int(malignant)),
            "malignant_probability": f"{s}",
            "malignant_probability_given_type": f"{s}",
        }
        for s in scores
    ]


def test_the_card_block_uses_assessable_validation_photos_of_each_type_only():
    rng = np.random.default_rng(1)
    rows = _rows("ham10000", "dermoscopy", True, rng.uniform(0.2, 1, 60))
    rows += _rows("ham10000", "dermoscopy", False, rng.uniform(0, 0.5, 300))
    rows += _rows("pad_ufes20", "clinical", True, rng.uniform(0.4, 1, 40))
    rows += _rows("pad_ufes20", "clinical", False, rng.uniform(0, 0.8, 60))
    ignored = _rows("ham10000", "dermoscopy", True, [0.0] * 5, split="test")
    ignored += _rows("ham10000", "dermoscopy", True, [0.0] * 5, assessable="0")
    block = points_by_photo_type(rows + ignored)
    assert block == points_by_photo_type(rows) | {"created": block["created"]}
    assert set(block["types"]) == {"dermoscopy", "clinical"}
    assert block["types"]["dermoscopy"]["medium"]["sources"]["ham10000"]["n_malignant"] == 60
    assert block["types"]["clinical"]["medium"]["threshold"] != block["types"]["dermoscopy"]["medium"]["threshold"]
    check = block["detected_type_check"]
    # Every photo's type detected right here: the check repeats the given-type figure.
    clinical = block["types"]["clinical"]["medium"]["sources"]["pad_ufes20"]["sensitivity"]
    assert check["pad_ufes20"]["medium_or_high_sensitivity"] == clinical >= 0.9


def test_a_source_too_small_to_show_ninety_percent_is_an_error():
    with pytest.raises(ValueError, match="tiny"):
        medium_threshold({"tiny": np.array([0.5, 0.6, 0.7])})


SERVED = Path(__file__).resolve().parents[2] / "inference" / "model"
SCORES = Path(__file__).resolve().parents[2] / "reports" / "validation_scores.csv"


def test_the_served_cards_thresholds_find_ninety_percent_on_each_validation_source():
    """The card's band starts (read from the card, not written here) against the stored validation scores of
    the served model: medium or high for >= 90 % of each source's malignant photos, with the margin, with
    the type given and with the type detected; and the card's per-source figures are those scores'."""
    from training.contract import read_card

    card = read_card(SERVED)
    with SCORES.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == "val" and r["assessable"] == "1"]
    assert {r["model_version"] for r in rows} == {card["version"]}
    types = card["operating_points_by_photo_type"]["types"]
    assert set(types) == {"dermoscopy", "clinical"}
    sources_of = {t: {r["source"] for r in rows if r["photo_type"] == t} for t in types}
    assert sources_of == {"dermoscopy": {"ham10000", "derm7pt", "isic2017", "ph2"}, "clinical": {"pad_ufes20"}}
    for photo_type, bands in types.items():
        medium = bands["medium"]["threshold"]
        for source in sources_of[photo_type]:
            malignant = [r for r in rows if r["source"] == source and r["malignant"] == "1"]
            # Type given: the type's own points.
            hits = sum(float(r["malignant_probability_given_type"]) >= medium for r in malignant)
            assert wilson_lower(hits, len(malignant)) >= 0.9, (photo_type, source, hits, len(malignant))
            assert bands["medium"]["sources"][source]["sensitivity"] == round(hits / len(malignant), 4)
            # Type detected: each photo banded by the points of the type it was detected as.
            detected = sum(
                float(r["malignant_probability"]) >= types[r["detected_type"]]["medium"]["threshold"] for r in malignant
            )
            assert detected / len(malignant) >= 0.9, (photo_type, source, detected, len(malignant))
        benign = [
            float(r["malignant_probability_given_type"])
            for r in rows
            if r["photo_type"] == photo_type and r["malignant"] == "0"
        ]
        assert np.mean(np.array(benign) < bands["high"]["threshold"]) >= 0.9
