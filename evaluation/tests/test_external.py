"""`python -m evaluation.external` scores the served model as the worker does, and compares
test-time view counts on the same prepared photos."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from conftest import TESTDATA
from evaluation.external import _views_lines, score_served, views_comparison
from inference.engine import DEFAULT_MODEL_DIR, get_classifier
from training.source_metrics import source_metrics
from training.sources import Sample


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    with (TESTDATA / "metadata.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [Sample("ham10000", TESTDATA / f"{r['image_id']}.jpg", r["dx"], r["lesion_id"], "val") for r in rows]


def classifier_image(sample: Sample):
    from training.contract import open_image

    return open_image(sample.path, get_classifier(DEFAULT_MODEL_DIR).input_size)


def test_the_served_outputs_come_with_the_decision_and_the_prepared_photos(samples):
    classifier = get_classifier(DEFAULT_MODEL_DIR)
    outputs = score_served(samples, DEFAULT_MODEL_DIR)
    n, size = len(samples), classifier.input_size
    assert outputs["probabilities"].shape == (n, 7)
    assert outputs["images"].shape == (n, size, size, 3) and outputs["images"].dtype == np.uint8
    assert outputs["assessable"].all() and not any(outputs["reasons"])  # real lesions, all assessable
    served = classifier.predict_batch([classifier_image(s) for s in samples])
    np.testing.assert_allclose(outputs["probabilities"][:, 0], [p.probabilities["akiec"] for p in served], atol=1e-6)


def test_the_view_counts_are_scored_on_the_same_photos_and_the_served_count_is_kept(samples):
    classifier = get_classifier(DEFAULT_MODEL_DIR)
    outputs = score_served(samples, DEFAULT_MODEL_DIR)
    views = views_comparison(samples, outputs["images"], DEFAULT_MODEL_DIR, counts=(1, classifier.views))
    assert classifier.views == classifier.card["test_time_augmentation"]
    served = source_metrics(samples, outputs["probabilities"])
    assert views[str(classifier.views)]["malignant_roc_auc"] == pytest.approx(served["malignant_roc_auc"])
    assert set(views) == {"1", str(classifier.views)}
    lines = _views_lines({"views": {"testdata val": views}, "served_views": classifier.views})
    assert any(line.startswith("| testdata val |") for line in lines)
