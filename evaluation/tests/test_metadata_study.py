"""The metadata study's out-of-fold scores never see a photo's own lesion or patient."""

from __future__ import annotations

import numpy as np

from evaluation.metadata_study import _fit, out_of_fold


def test_out_of_fold_scores_do_not_leak_a_group_into_its_own_fit():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), 4)  # 60 lesions, 4 photos each
    y = np.repeat(rng.random(60) < 0.5, 4)  # a lesion's label, unrelated to anything else
    x = np.eye(60)[groups] * 5  # a feature that names the lesion: memorising it would "predict" the label
    in_sample = roc_auc_score(y, _fit(x, y).decision_function(x))
    held_out = roc_auc_score(y, out_of_fold(x, y, groups, seed=0))
    assert in_sample > 0.95
    assert held_out < 0.65  # nothing learnt about a lesion from its own photos
