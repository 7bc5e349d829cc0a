"""Multi-source data: patients and lesions never cross splits, classes balanced within each source."""

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from training.sources import (
    EXTERNAL_SPLIT_FILE,
    SHARED_DATA,
    Sample,
    balanced_weights,
    leave_one_source_out,
    load_samples,
    write_external_split,
)

needs_data = pytest.mark.skipif(not (SHARED_DATA / "external").is_dir(), reason="shared data not mounted")


def _sample(source: str, dx: str, group: str, split: str = "train") -> Sample:
    return Sample(source, Path(f"/nowhere/{source}/{group}-{dx}.jpg"), dx, group, split)


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return load_samples()


@needs_data
def test_every_source_is_loaded_with_both_photo_types(samples):
    sources = {s.source for s in samples}
    assert sources == {"ham10000", "derm7pt", "isic2017", "ph2", "pad_ufes20"}
    assert {s.photo_type for s in samples if s.source == "pad_ufes20"} == {"clinical"}
    assert {s.photo_type for s in samples if s.source != "pad_ufes20"} == {"dermoscopy"}
    assert all(s.path.is_file() for s in samples[:50])


@needs_data
def test_no_patient_or_lesion_is_on_both_sides(samples):
    splits = defaultdict(set)
    for s in samples:
        splits[(s.source, s.group)].add(s.split)
    assert all(len(v) == 1 for v in splits.values())
    pad_patients = {s.group for s in samples if s.source == "pad_ufes20"}
    assert all(g.startswith("PAT_") for g in pad_patients)  # grouped by patient, not by image


@needs_data
def test_every_external_source_has_malignant_photos_in_validation(samples):
    for source in ("derm7pt", "isic2017", "ph2", "pad_ufes20"):
        val = [s for s in samples if s.source == source and s.split == "val"]
        assert any(s.malignant for s in val) and any(not s.malignant for s in val)


@needs_data
def test_the_committed_split_is_reproducible(samples, tmp_path):
    external = [s for s in samples if s.source != "ham10000"]
    write_external_split(external, SHARED_DATA, tmp_path / "split.csv")
    assert (tmp_path / "split.csv").read_bytes() == EXTERNAL_SPLIT_FILE.read_bytes()


def test_weights_balance_classes_within_each_source():
    data = [_sample("a", "nv", f"a{i}") for i in range(90)] + [_sample("a", "mel", f"m{i}") for i in range(10)]
    data += [_sample("b", "nv", f"b{i}") for i in range(20)] + [_sample("b", "bcc", f"c{i}") for i in range(20)]
    data += [_sample("b", "other", "o1")]
    w = balanced_weights(data)
    source = np.array([s.source for s in data])
    dx = np.array([s.dx for s in data])
    # Within a source every class carries the same total weight: no "source -> benign" shortcut.
    assert w[(source == "a") & (dx == "nv")].sum() == pytest.approx(w[(source == "a") & (dx == "mel")].sum())
    assert w[(source == "b") & (dx == "nv")].sum() == pytest.approx(w[(source == "b") & (dx == "bcc")].sum())
    assert w[dx == "other"].sum() == 0  # no HAM10000 class: out of the 7-class loss
    doubled = balanced_weights(data, source_share={"b": 2.0})
    assert doubled[source == "b"].sum() / doubled[source == "a"].sum() == pytest.approx(
        2 * w[source == "b"].sum() / w[source == "a"].sum()
    )


def test_weights_are_capped():
    data = [_sample("a", "nv", f"a{i}") for i in range(1000)] + [_sample("a", "mel", "m0")]
    w = balanced_weights(data, cap=20.0)
    assert w.max() <= 20.0 * w.mean() * 1.001


def test_leave_one_source_out_never_fits_on_the_scored_source():
    data = [_sample(src, "nv", f"{src}{i}", "val") for src in ("a", "b", "c") for i in range(3)]
    folds = list(leave_one_source_out(data))
    assert [held for held, _, _ in folds] == ["a", "b", "c"]
    for held, fit, score in folds:
        assert {s.source for s in score} == {held}
        assert held not in {s.source for s in fit}
