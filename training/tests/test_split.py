"""The lesion-level train/validation/test split: committed file and the code that makes it."""

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from training.contract import CLASSES
from training.data import (
    DEFAULT_DATA_DIR,
    DEFAULT_SEED,
    DEFAULT_SPLIT_FILE,
    SPLITS,
    file_sha256,
    make_split,
    read_metadata,
    read_split,
)

MODEL_CARD = Path(__file__).resolve().parents[2] / "inference" / "model" / "model_card.json"
needs_data = pytest.mark.skipif(
    not (DEFAULT_DATA_DIR / "metadata.csv").is_file(),
    reason=f"HAM10000 is not at {DEFAULT_DATA_DIR} (only the committed split file is checked)",
)


@pytest.fixture(scope="module")
def committed():
    return read_split(DEFAULT_SPLIT_FILE)


def _synthetic_metadata(n_lesions: int = 700) -> list[dict[str, str]]:
    """HAM-like rows: skewed classes, 1 to 3 images per lesion."""
    weights = {"nv": 50, "mel": 8, "bkl": 8, "bcc": 4, "akiec": 3, "vasc": 2, "df": 2}
    dxs = [dx for dx, w in weights.items() for _ in range(w)]
    rows, image = [], 0
    for i in range(n_lesions):
        for _ in range(1 + i % 3):
            rows.append({"lesion_id": f"HAM_{i:07d}", "image_id": f"ISIC_{image:07d}", "dx": dxs[i % len(dxs)]})
            image += 1
    return rows


def _check_split(rows) -> None:
    image_ids = [r.image_id for r in rows]
    assert len(image_ids) == len(set(image_ids)), "an image is listed twice"
    assert {r.split for r in rows} == set(SPLITS)
    splits_of_lesion = defaultdict(set)
    for r in rows:
        splits_of_lesion[r.lesion_id].add(r.split)
    leaked = {lesion: s for lesion, s in splits_of_lesion.items() if len(s) > 1}
    assert not leaked, f"lesions in more than one split: {list(leaked)[:5]}"


def _check_stratified(rows) -> None:
    """Each class's lesions are split 70/15/15, give or take the one lesion rounding moves."""
    lesion = {r.lesion_id: (r.dx, r.split) for r in rows}
    for dx in {d for d, _ in lesion.values()}:
        counts = Counter(s for d, s in lesion.values() if d == dx)
        total = sum(counts.values())
        for split, share in zip(SPLITS, (0.70, 0.15, 0.15), strict=True):
            assert abs(counts[split] - share * total) <= 1.0, (dx, split, counts)


def test_committed_split_keeps_each_lesion_in_one_split(committed):
    _check_split(committed)
    assert len(committed) == 10015
    assert {r.dx for r in committed} == set(CLASSES)


def test_committed_split_is_stratified_by_class(committed):
    _check_stratified(committed)


def test_committed_split_is_the_one_the_model_was_scored_on(committed):
    card = json.loads(MODEL_CARD.read_text(encoding="utf-8"))
    assert card["training"]["split_sha256"] == file_sha256(DEFAULT_SPLIT_FILE)


def test_make_split_groups_lesions_and_is_deterministic():
    metadata = _synthetic_metadata()
    first = make_split(metadata, seed=7)
    _check_split(first)
    _check_stratified(first)
    assert len(first) == len(metadata)
    assert make_split(list(reversed(metadata)), seed=7) == first, "row order must not matter"
    assert make_split(metadata, seed=8) != first, "the seed must matter"


def test_make_split_rejects_a_lesion_with_two_diagnoses():
    metadata = _synthetic_metadata(10)
    metadata.append({**metadata[0], "image_id": "ISIC_9999999", "dx": "mel" if metadata[0]["dx"] != "mel" else "nv"})
    with pytest.raises(ValueError, match="two diagnoses"):
        make_split(metadata)


@needs_data
def test_committed_split_covers_the_dataset_exactly(committed):
    metadata = read_metadata(DEFAULT_DATA_DIR)
    assert {(r["image_id"], r["lesion_id"], r["dx"]) for r in metadata} == {
        (r.image_id, r.lesion_id, r.dx) for r in committed
    }


@needs_data
def test_committed_split_is_reproduced_from_its_seed(committed):
    assert make_split(read_metadata(DEFAULT_DATA_DIR), seed=DEFAULT_SEED) == committed
