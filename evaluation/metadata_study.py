"""What age, sex and body site could add to the served model, source by source: `reports/metadata_study.{md,json}`.

CLI (after `python -m evaluation.validation_scores --parts val,test`):

    python -m evaluation.metadata_study [--scores reports/validation_scores.csv] [--out reports]

The served model takes a metadata input with weight 0 (its answer depends on the photo alone). This asks
how much a small fusion after the CNN would change the malignant AUC where the sources record age, sex and
site (HAM10000 and PAD-UFES-20; the other sets here have none): a logistic regression on the logit of the
served malignant probability, with and without `training.contract.encode_metadata(age, sex, site)`, fitted
on the validation parts of both sources together. Scored out of fold on the validation parts (5 folds
grouped by lesion or patient, 5 seeds), and on the HAM10000 test split with the fusion fitted on every
validation photo. No retraining, no change to the served model: a measurement of what the input could do.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from training.sources import SHARED_DATA, Sample, load_samples

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES_WITH_METADATA = ("ham10000", "pad_ufes20")
FOLDS, SEEDS, C = 5, 5, 1.0


def _features(rows: list[dict[str, str]], samples: list[Sample], metadata: bool) -> np.ndarray:
    p = np.clip(np.array([float(r["malignant_probability_given_type"]) for r in rows]), 1e-6, 1 - 1e-6)
    columns = [np.log(p / (1 - p))[:, None]]
    if metadata:
        columns.append(np.stack([s.metadata() for s in samples]))
    return np.hstack(columns)


def _fit(x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=2000).fit(x, y)


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int) -> np.ndarray:
    """Malignant scores of each photo from a fusion fitted without its lesion's or patient's photos."""
    from sklearn.model_selection import GroupKFold

    scores = np.empty(len(y))
    unique = np.unique(groups)
    shuffled = dict(zip(unique, np.random.default_rng(seed).permutation(len(unique)), strict=True))
    for fit, held in GroupKFold(FOLDS).split(x, y, [shuffled[g] for g in groups]):
        scores[held] = _fit(x[fit], y[fit]).decision_function(x[held])
    return scores


def study(rows: list[dict[str, str]], data_root: Path = SHARED_DATA) -> dict:
    """AUCs per source with and without metadata (see the module)."""
    from sklearn.metrics import roc_auc_score

    by_key = {(s.source, str(s.path)): s for s in load_samples(data_root)}
    rows = [r for r in rows if r["source"] in SOURCES_WITH_METADATA and r["assessable"] == "1"]
    samples = [by_key[(r["source"], str(data_root / r["path"]))] for r in rows]
    val = np.array([r["split"] == "val" for r in rows])
    test = np.array([r["source"] == "ham10000" and r["split"] == "test" for r in rows])
    y = np.array([r["malignant"] == "1" for r in rows])
    groups = np.array([f"{s.source}:{s.group}" for s in samples])
    source = np.array([r["source"] for r in rows])
    known = {
        name: {
            "age": float(
                np.mean([s.age is not None for s, r in zip(samples, rows, strict=True) if r["source"] == name])
            ),
            "sex": float(
                np.mean([s.sex is not None for s, r in zip(samples, rows, strict=True) if r["source"] == name])
            ),
            "site": float(
                np.mean([s.site is not None for s, r in zip(samples, rows, strict=True) if r["source"] == name])
            ),
        }
        for name in SOURCES_WITH_METADATA
    }
    result: dict = {"validation_out_of_fold": {}, "ham10000_test": {}, "known": known}
    for label, metadata in (("without", False), ("with", True)):
        x = _features(rows, samples, metadata)
        per_seed: dict[str, list[float]] = {name: [] for name in SOURCES_WITH_METADATA}
        for seed in range(SEEDS):
            scores = out_of_fold(x[val], y[val], groups[val], seed)
            for name in SOURCES_WITH_METADATA:
                mask = source[val] == name
                per_seed[name].append(roc_auc_score(y[val][mask], scores[mask]))
        result["validation_out_of_fold"][label] = {
            name: {"auc": float(np.mean(v)), "sd_over_seeds": float(np.std(v))} for name, v in per_seed.items()
        }
        fitted = _fit(x[val], y[val])
        result["ham10000_test"][label] = float(roc_auc_score(y[test], fitted.decision_function(x[test])))
    result["counts"] = {
        name: {
            "validation": int((val & (source == name)).sum()),
            "validation_malignant": int((val & (source == name) & y).sum()),
        }
        for name in SOURCES_WITH_METADATA
    } | {"ham10000_test": int(test.sum())}
    return result


def markdown(report: dict) -> str:
    oof, test, counts = report["validation_out_of_fold"], report["ham10000_test"], report["counts"]
    lines = [
        f"# Age, sex and body site with `{report['model_version']}`",
        "",
        f"Generated {report['generated_at']} by `python -m evaluation.metadata_study` from "
        "`reports/validation_scores.csv`. A logistic regression on the logit of the served malignant probability "
        "(type given), with and without age, sex and site (`encode_metadata`), fitted on the validation parts of "
        f"HAM10000 and PAD-UFES-20 together (C = {C:g}); the other sets here record none. The served model itself "
        "gives the metadata weight 0.",
        "",
        "| source | photos (malignant) | age / sex / site known | malignant AUC without | with | change |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in SOURCES_WITH_METADATA:
        k = report["known"][name]
        a, b = oof["without"][name], oof["with"][name]
        lines.append(
            f"| {name} validation, out of fold ({FOLDS} grouped folds, {SEEDS} seeds) "
            f"| {counts[name]['validation']} ({counts[name]['validation_malignant']}) "
            f"| {k['age']:.0%} / {k['sex']:.0%} / {k['site']:.0%} "
            f"| {a['auc']:.3f} ± {a['sd_over_seeds']:.3f} | {b['auc']:.3f} ± {b['sd_over_seeds']:.3f} "
            f"| {b['auc'] - a['auc']:+.3f} |"
        )
    lines.append(
        f"| ham10000 test (fitted on all validation photos) | {counts['ham10000_test']} | | {test['without']:.3f} "
        f"| {test['with']:.3f} | {test['with'] - test['without']:+.3f} |"
    )
    lines += [
        "",
        "Without metadata the fusion is a monotone map of the served probability, so its AUC is the served one "
        "(up to the fold's fit). Part of what age, sex and site add on HAM10000 is how its two clinics recorded "
        "their patients, which need not hold for Skinsite's users, most of whom give no age or sex.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scores", type=Path, default=REPO_ROOT / "reports" / "validation_scores.csv")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports")
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with args.scores.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    report = {
        "model_version": rows[0]["model_version"],
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        **study(rows, args.data_root),
    }
    (args.out / "metadata_study.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "metadata_study.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
