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


def test_stored_scores_give_melanoma_against_nevus_per_set_and_model(tmp_path):
    from evaluation.external import markdown, stored_comparison
    from evaluation.validation_scores import COLUMNS

    def row(version, dx, malignant_probability, mel, nv):
        values = dict.fromkeys(COLUMNS, "0") | {"model_version": version, "source": "derm7pt", "split": "val"}
        values |= {"dx": dx, "malignant": str(int(dx in ("mel", "bcc"))), "p_mel": mel, "p_nv": nv}
        return values | {"malignant_probability": malignant_probability}

    files = []
    for version, rows in {
        # a: the bcc mass on one nevus spoils its malignant probability, not its melanoma odds.
        "a": [("mel", 0.6, 0.5, 0.4), ("mel", 0.4, 0.3, 0.6), ("nv", 0.5, 0.1, 0.9), ("nv", 0.1, 0.05, 0.9)],
        "b": [("mel", 0.9, 0.8, 0.2), ("mel", 0.8, 0.7, 0.3), ("nv", 0.2, 0.1, 0.9), ("bcc", 0.7, 0.0, 0.1)],
    }.items():
        path = tmp_path / f"{version}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(row(version, *r) for r in rows)
        files.append(path)
    comparison = stored_comparison(files)
    a, b = comparison["a"]["derm7pt val"], comparison["b"]["derm7pt val"]
    assert (a["n_melanoma"], a["n_nevus"]) == (2, 2)
    assert a["melanoma_vs_nevus_auc"] == 0.75 and a["melanoma_vs_nevus_auc_mel_odds"] == 1.0
    assert b["melanoma_vs_nevus_auc"] == 1.0 and b["n_malignant"] == 3
    page = markdown({"model_version": "a", "generated_at": "now", "sets": {}, "figures": {}, "comparison": comparison})
    assert "| derm7pt val | 2 / 2 | 0.750 / 1.000, " in page and "`b`: mel vs nv" in page


def test_a_references_stored_scores_give_its_figures_per_set(tmp_path):
    from evaluation.external import metrics_from_scores
    from evaluation.validation_scores import COLUMNS

    path = tmp_path / "reference.csv"
    rows = [("mel", 0.9), ("mel", 0.2), ("nv", 0.3), ("nv", 0.1), ("bcc", 0.8)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for i, (dx, p) in enumerate(rows):
            writer.writerow(
                dict.fromkeys(COLUMNS, "0")
                | {"source": "ph2", "split": "val", "path": f"external/ph2/images/{i}.jpg", "dx": dx}
                | {"p_mel": p, "p_nv": 1 - p}
            )
    figures = metrics_from_scores(path, tmp_path)
    assert list(figures) == ["ph2 val"]
    assert figures["ph2 val"]["melanoma_vs_nevus_auc"] == 0.75 and figures["ph2 val"]["n_malignant"] == 3
