"""HAM10000 metadata, the lesion-level train/validation/test split, and cached image arrays.

The split is by `lesion_id`: HAM10000 has several photos of many lesions, and a lesion seen in
training must never be scored in validation or test. The split is written once to a committed
CSV and reused, so every model version is measured on the same test images.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from training.contract import CLASSES, PREPROCESSING_VERSION, SEXES, UNKNOWN_SITE, encode_metadata, prepare_image

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every source's folder (ham10000/, ham10000_320/, external/): `training.sources` reads them all from here.
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA / "ham10000"
DEFAULT_SPLIT_FILE = Path(__file__).resolve().parent / "splits" / "ham10000_split.csv"
DEFAULT_SEED = 20180814  # the HAM10000 paper's publication date; any fixed value works
SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.70, 0.15, 0.15)
SPLIT_COLUMNS = ("image_id", "lesion_id", "dx", "split")


@dataclass(frozen=True)
class SplitRow:
    """One image and the split its lesion belongs to."""

    image_id: str
    lesion_id: str
    dx: str
    split: str

    @property
    def class_index(self) -> int:
        """Position in CLASSES (HAM10000 labels every image with one of them)."""
        return CLASSES.index(self.dx)


def read_metadata(data_dir: Path) -> list[dict[str, str]]:
    """The rows of HAM10000's `metadata.csv`, unchanged."""
    path = Path(data_dir) / "metadata.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no HAM10000 metadata at {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    unknown = {row["dx"] for row in rows} - set(CLASSES)
    if unknown:
        raise ValueError(f"{path} has unknown dx values: {sorted(unknown)}")
    return rows


def make_split(
    metadata: list[dict[str, str]],
    *,
    seed: int = DEFAULT_SEED,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
) -> list[SplitRow]:
    """Assign every lesion (and so all its images) to train, val or test, stratified by class.

    Within each class the lesions are shuffled with `seed` and cut at the given fractions, so
    each split holds about the same share of every class, even the rare ones.
    """
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must sum to 1, got {fractions}")
    lesion_dx: dict[str, str] = {}
    for row in metadata:
        previous = lesion_dx.setdefault(row["lesion_id"], row["dx"])
        if previous != row["dx"]:
            raise ValueError(f"lesion {row['lesion_id']} has two diagnoses: {previous}, {row['dx']}")

    by_class: dict[str, list[str]] = defaultdict(list)
    for lesion_id, dx in lesion_dx.items():
        by_class[dx].append(lesion_id)
    rng = np.random.default_rng(seed)
    lesion_split: dict[str, str] = {}
    for dx in sorted(by_class):
        lesions = sorted(by_class[dx])  # sorted first: the result must not depend on CSV order
        rng.shuffle(lesions)
        n_val = round(len(lesions) * fractions[1])
        n_test = round(len(lesions) * fractions[2])
        for i, lesion_id in enumerate(lesions):
            lesion_split[lesion_id] = "test" if i < n_test else "val" if i < n_test + n_val else "train"

    rows = [SplitRow(r["image_id"], r["lesion_id"], r["dx"], lesion_split[r["lesion_id"]]) for r in metadata]
    return sorted(rows, key=lambda r: r.image_id)


def write_split(rows: list[SplitRow], path: Path) -> None:
    """Write the split CSV (sorted by image_id, Unix newlines, so its hash is stable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(SPLIT_COLUMNS)
        for row in rows:
            writer.writerow([row.image_id, row.lesion_id, row.dx, row.split])


def read_split(path: Path = DEFAULT_SPLIT_FILE) -> list[SplitRow]:
    """Read a split CSV written by `write_split`."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != SPLIT_COLUMNS:
            raise ValueError(f"{path} must have the columns {SPLIT_COLUMNS}, has {reader.fieldnames}")
        return [SplitRow(**row) for row in reader]


def load_or_create_split(
    data_dir: Path, split_file: Path = DEFAULT_SPLIT_FILE, *, seed: int = DEFAULT_SEED
) -> list[SplitRow]:
    """Reuse the committed split if there is one (checking it matches the data), else make it."""
    metadata = read_metadata(data_dir)
    if Path(split_file).is_file():
        rows = read_split(split_file)
        expected = {(r["image_id"], r["lesion_id"], r["dx"]) for r in metadata}
        found = {(r.image_id, r.lesion_id, r.dx) for r in rows}
        if expected != found:
            raise ValueError(
                f"{split_file} does not match {data_dir}/metadata.csv "
                f"({len(expected ^ found)} differing rows); delete it to make a new split on purpose"
            )
        logger.info("Using the existing split %s", split_file)
        return rows
    rows = make_split(metadata, seed=seed)
    write_split(rows, split_file)
    logger.info("Wrote a new split to %s (seed %d)", split_file, seed)
    return rows


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, recorded in the model card to pin the exact split."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def split_summary(rows: list[SplitRow]) -> dict[str, dict[str, int]]:
    """Image counts per split and class, for logs and the model card."""
    counts: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
    for row in rows:
        counts[row.split][row.dx] += 1
    return {split: {dx: counts[split][dx] for dx in CLASSES} for split in SPLITS}


def load_images(data_dir: Path, image_ids: list[str], size: int, cache_dir: Path | None = None) -> np.ndarray:
    """Prepared uint8 arrays `(n, size, size, 3)` for `image_ids`, via `prepare_image`.

    Decoding 10,000 JPEGs takes a while on two cores, so the result is cached as one .npy file,
    keyed on the image list, the size and the preprocessing version.
    """
    key = hashlib.sha256("\n".join(image_ids).encode()).hexdigest()[:16]
    cache_file = None
    if cache_dir is not None:
        folder = Path(data_dir).resolve().name  # ham10000 (200x150) or ham10000_320: other pixels
        prefix = "ham10000" if folder == "ham10000" else folder
        cache_file = Path(cache_dir) / f"{prefix}-{size}px-p{PREPROCESSING_VERSION}-{key}.npy"
        if cache_file.is_file():
            logger.info("Loading cached images from %s", cache_file)
            return np.load(cache_file)
    images = np.empty((len(image_ids), size, size, 3), dtype=np.uint8)
    for i, image_id in enumerate(image_ids):
        with Image.open(Path(data_dir) / "images" / f"{image_id}.jpg") as image:
            images[i] = prepare_image(image, size)
        if (i + 1) % 2000 == 0:
            logger.info("Prepared %d/%d images", i + 1, len(image_ids))
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp.npy")
        np.save(tmp, images)
        tmp.replace(cache_file)  # atomic, so a killed run never leaves half a cache
    return images


def metadata_vectors(data_dir: Path, image_ids: list[str]) -> np.ndarray:
    """The model's metadata input `(n, METADATA_SIZE)` for HAM10000 images (age, sex, localization)."""
    by_id = {row["image_id"]: row for row in read_metadata(data_dir)}
    return np.stack([encode_metadata(*ham10000_context(by_id[image_id])) for image_id in image_ids])


def ham10000_context(row: dict[str, str]) -> tuple[float | None, str | None, str | None]:
    """Age, sex and body site of a HAM10000 `metadata.csv` row; None where the row says nothing."""
    age = float(row["age"]) if row["age"].strip() else None
    sex = row["sex"] if row["sex"] in SEXES else None
    site = row["localization"] if row["localization"] != UNKNOWN_SITE else None
    return age, sex, site


class Labelled(Protocol):
    """A labelled image: a HAM10000 split row or a sample of any source (`training.sources.Sample`)."""

    @property
    def class_index(self) -> int: ...


def labels_of(items: Sequence[Labelled]) -> np.ndarray:
    """Class indices (positions in CLASSES; -1 where no class fits) of split rows or samples."""
    return np.array([item.class_index for item in items], dtype=np.int64)


if __name__ == "__main__":  # python -m training.data [DATA_DIR]: write (or check) the split
    import sys

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    split_rows = load_or_create_split(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA_DIR)
    for name, per_class in split_summary(split_rows).items():
        print(name, sum(per_class.values()), per_class)
