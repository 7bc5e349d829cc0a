"""`python -m evaluation.not_assessable --card` records the refusal rates in a model card."""

import json

from evaluation.not_assessable import card_record


def _group(refused: float, benign: float, malignant: float | None) -> dict:
    return {"images": 100, "refused": refused, "refused_benign": benign, "refused_malignant": malignant, "reasons": {}}


def test_the_refusal_rates_go_into_the_card_beside_the_accuracy_of_the_same_photos(tmp_path):
    card_path = tmp_path / "model_card.json"
    card = {
        "version": "v-test",
        "metrics": {
            "validation_per_source": {"ham10000": {"malignant_roc_auc": 0.9}, "ph2": {"malignant_roc_auc": 0.8}},
            "ham10000_test": {"malignant_roc_auc": 0.91},
        },
    }
    card_path.write_text(json.dumps(card), encoding="utf-8")
    report = {
        "lesions_by_set": {
            "ham10000 val": _group(0.01, 0.012, 0.004),
            "ham10000 test": _group(0.02, 0.02, 0.01),
            "ph2 val": _group(0.0, 0.0, 0.0),
            "isic2017 val": _group(0.03, 0.03, None),  # no row for it in this card: left out there
        },
        "non_lesion": {"images": 181, "rejection_rate": 0.94},
        "plain_skin": {"photos": 141, "images": 564, "refused": 507, "rate": 0.899},
        "feature_checks": {"distance_above": 78.8, "no_lesion_above": 0.94},
        "targets": {"met": False},
    }
    card_record(card_path, report)
    written = json.loads(card_path.read_text(encoding="utf-8"))

    assert written["version"] == "v-test"
    per_source = written["metrics"]["validation_per_source"]
    assert per_source["ham10000"] == {
        "malignant_roc_auc": 0.9,
        "refused": 0.01,
        "refused_benign": 0.012,
        "refused_malignant": 0.004,
    }
    assert per_source["ph2"]["refused"] == 0.0
    assert "isic2017" not in per_source
    assert written["metrics"]["ham10000_test"]["refused_malignant"] == 0.01
    section = written["not_assessable"]
    assert section["non_lesion_refused"] == {"images": 181, "rate": 0.94}
    assert section["plain_skin_refused"] == {"photos": 141, "images": 564, "rate": 0.899}
    assert "feature checks" in section["checks"]
    assert section["real_lesions_refused"]["isic2017 val"]["refused_malignant"] is None
    assert section["targets"]["met"] is False
