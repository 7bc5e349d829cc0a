"""Per-source figures: melanoma against nevus beside malignant against benign, and the training choice on both."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.contract import CLASSES
from training.source_metrics import melanoma_vs_nevus_auc, source_metrics
from training.sources import Sample


def _probabilities(malignant_scores: list[float]) -> np.ndarray:
    """Rows whose malignant probability is each score (all of it on mel, the rest on nv)."""
    rows = np.zeros((len(malignant_scores), len(CLASSES)))
    rows[:, CLASSES.index("mel")] = malignant_scores
    rows[:, CLASSES.index("nv")] = 1 - np.array(malignant_scores)
    return rows


def test_melanoma_against_nevus_leaves_the_other_lesions_out():
    dx = ["mel", "mel", "nv", "nv", "bcc", "bkl"]
    # The bcc scores lowest and the bkl highest: they would spoil a malignant AUC, not this one.
    score = np.array([0.9, 0.6, 0.5, 0.1, 0.0, 1.0])
    assert melanoma_vs_nevus_auc(dx, score) == 1.0
    assert melanoma_vs_nevus_auc(dx, 1 - score) == 0.0
    assert melanoma_vs_nevus_auc(["mel", "bcc"], np.array([0.5, 0.4])) is None  # no nevus
    assert melanoma_vs_nevus_auc(["nv", "nv"], np.array([0.5, 0.4])) is None


def test_source_metrics_report_it_beside_the_malignant_auc():
    dx = ["mel", "mel", "nv", "nv", "nv", "bcc"]
    samples = [Sample("derm7pt", Path(f"/x/{i}.jpg"), d, str(i), "val") for i, d in enumerate(dx)]
    metrics = source_metrics(samples, _probabilities([0.8, 0.3, 0.4, 0.2, 0.1, 0.05]))
    assert (metrics["n_melanoma"], metrics["n_nevus"]) == (2, 3)
    assert abs(metrics["melanoma_vs_nevus_auc"] - 5 / 6) < 1e-12  # the 0.3 melanoma ranks below one nevus of three
    assert abs(metrics["malignant_roc_auc"] - 5 / 9) < 1e-12  # the bcc ranks below every benign photo


def test_the_training_choice_counts_melanoma_against_nevus_per_source():
    from training.train_sources import MELANOMA_VS_NEVUS, per_source_auc

    rows = [("ham10000", "mel", 0.9), ("ham10000", "nv", 0.2), ("ham10000", "bcc", 0.1), ("ham10000", "bkl", 0.3)]
    rows += [("pad_ufes20", "bcc", 0.7), ("pad_ufes20", "nv", 0.1)]  # no melanoma: no mel-nv figure
    samples = [Sample(src, Path(f"/x/{i}.jpg"), d, str(i), "val") for i, (src, d, _) in enumerate(rows)]
    aucs = per_source_auc(_probabilities([p for *_, p in rows]), samples)
    assert aucs == {"ham10000": 0.5, "pad_ufes20": 1.0, "ham10000" + MELANOMA_VS_NEVUS: 1.0}
