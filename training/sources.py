"""Every labelled image we may train or validate on, from HAM10000 and the external sets, with splits.

Sources (`../shared/data/`, never copied into the repo):

| source | photo type | unit kept together | split |
|---|---|---|---|
| `ham10000` | dermoscopy | lesion_id | the committed HAM10000 split (train / val / test) |
| `derm7pt` | dermoscopy | case (one lesion) | train / val, by case |
| `isic2017` | dermoscopy | image (5 same-lesion groups kept together) | train / val |
| `ph2` | dermoscopy | image (one per lesion) | train / val |
| `pad_ufes20` | clinical (phone) | **patient** (several lesions, several photos) | train / val, by patient |

The external splits are made here (stratified by benign/malignant, grouped by the unit above, a
fixed seed) and written once to `splits/external_split.csv`, so every model is validated on the
same external images. `leave_one_source_out` gives the folds used to choose settings: fit on every
source but one, score on the one left out.

HAM10000 images are read from `ham10000_320/` (320x240, real detail at 192-224 px) when it is
there, else from `ham10000/` (200x150); labels and metadata always from `ham10000/metadata.csv`.
Only numpy and Pillow here, like `training.data`.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from training.contract import (
    CLASSES,
    MALIGNANT_CLASSES,
    PREPROCESSING_VERSION,
    encode_metadata,
    open_image,
    prepare_image,
)
from training.data import DEFAULT_SPLIT_FILE, SHARED_DATA, ham10000_context, read_metadata, read_split

logger = logging.getLogger(__name__)

EXTERNAL_SPLIT_FILE = Path(__file__).resolve().parent / "splits" / "external_split.csv"
EXTERNAL_SOURCES: tuple[str, ...] = ("derm7pt", "isic2017", "ph2", "pad_ufes20")
SOURCES: tuple[str, ...] = ("ham10000", *EXTERNAL_SOURCES)
PHOTO_TYPES: tuple[str, ...] = ("dermoscopy", "clinical")
PHOTO_TYPE = {"ham10000": "dermoscopy", "derm7pt": "dermoscopy", "isic2017": "dermoscopy", "ph2": "dermoscopy"}
PHOTO_TYPE["pad_ufes20"] = "clinical"
EXTERNAL_VAL_FRACTION = 0.4  # of each external source's units; enough malignant cases to measure
EXTERNAL_SEED = 20260101
EXTERNAL_SPLIT_COLUMNS = ("source", "path", "group", "split")
# The closest HAM10000 class for codes HAM10000 lacks; "other" (Derm7pt melanosis, miscellaneous)
# has none and is left out of the 7-class loss, but kept (as benign) in every benign/malignant figure.
DX_TO_CLASS = {"scc": "akiec"}
# PAD-UFES-20's body regions in HAM10000's localization words (lesions.models.BODY_SITES uses those).
PAD_REGIONS = {
    "ABDOMEN": "abdomen",
    "ARM": "upper extremity",
    "FOREARM": "upper extremity",
    "HAND": "hand",
    "BACK": "back",
    "CHEST": "chest",
    "EAR": "ear",
    "FACE": "face",
    "NOSE": "face",
    "LIP": "face",
    "FOOT": "foot",
    "NECK": "neck",
    "SCALP": "scalp",
    "THIGH": "lower extremity",
}


@dataclass(frozen=True)
class Sample:
    """One labelled image of one source."""

    source: str
    path: Path  # absolute
    dx: str  # HAM10000 code, or scc / other
    group: str  # patient or lesion: never on both sides of a split
    split: str  # train / val / test
    age: float | None = None
    sex: str | None = None
    site: str | None = None

    @property
    def malignant(self) -> bool:
        return self.dx in MALIGNANT_CLASSES or self.dx == "scc"

    @property
    def class_index(self) -> int:
        """Position in CLASSES, or -1 where no HAM10000 class fits (Derm7pt's "other")."""
        name = DX_TO_CLASS.get(self.dx, self.dx)
        return CLASSES.index(name) if name in CLASSES else -1

    @property
    def photo_type(self) -> str:
        return PHOTO_TYPE[self.source]

    def metadata(self) -> np.ndarray:
        return encode_metadata(self.age, self.sex, self.site)


def _ham10000(data_root: Path, split_file: Path) -> list[Sample]:
    meta_dir = data_root / "ham10000"
    image_dir = data_root / "ham10000_320" / "images"
    if not image_dir.is_dir():
        image_dir = meta_dir / "images"
    split = {r.image_id: r.split for r in read_split(split_file)}
    samples = []
    for row in read_metadata(meta_dir):
        age, sex, site = ham10000_context(row)
        samples.append(
            Sample(
                "ham10000",
                image_dir / f"{row['image_id']}.jpg",
                row["dx"],
                row["lesion_id"],
                split[row["image_id"]],
                age,
                sex,
                site,
            )
        )
    return sorted(samples, key=lambda s: s.path.name)


def _external_rows(data_root: Path, source: str) -> list[dict[str, str]]:
    path = data_root / "external" / source / "labels.csv"
    if not path.is_file():
        raise FileNotFoundError(f"no labels at {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _external(data_root: Path, source: str) -> list[Sample]:
    samples = []
    for row in _external_rows(data_root, source):
        age = sex = site = None
        if source == "pad_ufes20":
            group = row["patient_id"]  # a patient's lesions and photos stay together
            age = float(row["age"]) if row["age"].strip() else None
            sex = row["gender"].lower() if row["gender"].lower() in ("female", "male") else None
            site = PAD_REGIONS.get(row["region"])
        else:
            group = row.get("patient_or_lesion_id") or row["source_id"]
        label = "malignant" if (row["dx"] in MALIGNANT_CLASSES or row["dx"] == "scc") else "benign"
        if label != row["label"]:
            raise ValueError(f"{source}: {row['path']} is labelled {row['label']} but its dx is {row['dx']}")
        samples.append(
            Sample(source, data_root / "external" / source / row["path"], row["dx"], group, "", age, sex, site)
        )
    return samples


def _key(sample: Sample, data_root: Path) -> str:
    return sample.path.relative_to(data_root / "external" / sample.source).as_posix()


def write_external_split(samples: list[Sample], data_root: Path, path: Path, *, seed: int = EXTERNAL_SEED) -> None:
    """Write `source,path,group,split` for every external sample (sorted, Unix newlines)."""
    groups: dict[tuple[str, str], bool] = {}
    for s in samples:
        groups[(s.source, s.group)] = groups.get((s.source, s.group), False) or s.malignant
    rng = np.random.default_rng(seed)
    assignment: dict[tuple[str, str], str] = {}
    for source in sorted({s.source for s in samples}):
        for malignant in (False, True):
            keys = sorted(k for k, m in groups.items() if k[0] == source and m == malignant)
            rng.shuffle(keys)
            n_val = round(len(keys) * EXTERNAL_VAL_FRACTION)
            for i, key in enumerate(keys):
                assignment[key] = "val" if i < n_val else "train"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(EXTERNAL_SPLIT_COLUMNS)
        for s in sorted(samples, key=lambda s: (s.source, _key(s, data_root))):
            writer.writerow([s.source, _key(s, data_root), s.group, assignment[(s.source, s.group)]])


def read_external_split(path: Path = EXTERNAL_SPLIT_FILE) -> dict[tuple[str, str], str]:
    """`{(source, path): split}` from `write_external_split`'s file."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != EXTERNAL_SPLIT_COLUMNS:
            raise ValueError(f"{path} must have the columns {EXTERNAL_SPLIT_COLUMNS}")
        return {(row["source"], row["path"]): row["split"] for row in reader}


def load_samples(
    data_root: Path = SHARED_DATA,
    *,
    sources: tuple[str, ...] = SOURCES,
    ham_split_file: Path = DEFAULT_SPLIT_FILE,
    external_split_file: Path = EXTERNAL_SPLIT_FILE,
) -> list[Sample]:
    """Every sample of `sources` with its split; the external split file is made on first use.

    Raises if the committed external split does not cover the data (a changed data folder must
    not silently move images between train and validation).
    """
    data_root = Path(data_root)
    samples = _ham10000(data_root, ham_split_file) if "ham10000" in sources else []
    external = [s for source in sources if source != "ham10000" for s in _external(data_root, source)]
    if external:
        if not Path(external_split_file).is_file():
            all_external = [s for source in EXTERNAL_SOURCES for s in _external(data_root, source)]
            write_external_split(all_external, data_root, external_split_file)
            logger.info("Wrote a new external split to %s", external_split_file)
        assignment = read_external_split(external_split_file)
        missing = [s for s in external if (s.source, _key(s, data_root)) not in assignment]
        if missing:
            raise ValueError(f"{len(missing)} external images are not in {external_split_file}, e.g. {missing[0].path}")
        samples += [replace(s, split=assignment[(s.source, _key(s, data_root))]) for s in external]
    return samples


def leave_one_source_out(samples: list[Sample], split: str = "val") -> Iterator[tuple[str, list[Sample], list[Sample]]]:
    """Yield `(held_out_source, fit_samples, score_samples)`: fit on the others' `split`, score on one's.

    Used to choose settings (fusion, calibration, heads, photo-type input) on frozen-CNN outputs:
    every choice is scored on a source it was not fitted on.
    """
    for source in sorted({s.source for s in samples}):
        fit = [s for s in samples if s.split == split and s.source != source]
        score = [s for s in samples if s.split == split and s.source == source]
        if score:
            yield source, fit, score


def balanced_weights(
    samples: list[Sample], *, source_share: dict[str, float] | None = None, cap: float = 20.0
) -> np.ndarray:
    """Per-image loss weights: classes balanced *within* each source, sources weighted by `source_share`.

    Within a source every class it has gets the same total weight, so no source's class mix can
    be learned as a shortcut ("ISIC 2017 looks like this, so benign"). A source's total weight is
    its share of the images times `source_share[source]` (default 1). No image weighs more than
    `cap` times the average (ISIC 2017's 20-odd training melanomas would otherwise dominate).
    Images without a class (`class_index` -1) get 0. The weights average 1 over weighted images.
    """
    weights = np.zeros(len(samples))
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(samples):
        if s.class_index >= 0:
            by_source[s.source].append(i)
    for source, idx in by_source.items():
        classes = np.array([samples[i].class_index for i in idx])
        present = np.unique(classes)
        share = (source_share or {}).get(source, 1.0)
        for c in present:
            members = np.array(idx)[classes == c]
            weights[members] = share * len(idx) / (len(present) * len(members))
    used = weights > 0
    weights[used] /= weights[used].mean()
    for _ in range(200):  # clip and renormalise until the cap holds (it converges in a few rounds)
        weights = np.minimum(weights, cap)
        weights[used] /= weights[used].mean()
        if weights.max() <= cap * (1 + 1e-6):
            break
    return weights


def image_cache_key(samples: list[Sample], size: int) -> str:
    text = "\n".join(f"{s.source}/{s.path.name}" for s in samples)
    return f"{size}px-p{PREPROCESSING_VERSION}-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def load_sample_images(samples: list[Sample], size: int, cache_dir: Path | None = None) -> np.ndarray:
    """Prepared uint8 `(n, size, size, 3)` arrays (`prepare_image`), cached as one .npy per list."""
    cache_file = None
    if cache_dir is not None:
        cache_file = Path(cache_dir) / f"sources-{image_cache_key(samples, size)}.npy"
        if cache_file.is_file():
            return np.load(cache_file, mmap_mode="r")
    images = np.empty((len(samples), size, size, 3), dtype=np.uint8)
    for i, s in enumerate(samples):
        images[i] = prepare_image(open_image(s.path, size), size)
        if (i + 1) % 2000 == 0:
            logger.info("Prepared %d/%d images", i + 1, len(samples))
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_suffix(".tmp.npy")
        np.save(tmp, images)
        tmp.replace(cache_file)
        return np.load(cache_file, mmap_mode="r")
    return images


def metadata_of(samples: list[Sample]) -> np.ndarray:
    return np.stack([s.metadata() for s in samples]) if samples else np.zeros((0, 18), dtype=np.float32)


def malignant_of(samples: list[Sample]) -> np.ndarray:
    return np.array([s.malignant for s in samples], dtype=bool)


def clinical_of(samples: list[Sample]) -> np.ndarray:
    """1 for clinical (plain camera) photos, 0 for dermoscopy."""
    return np.array([s.photo_type == "clinical" for s in samples], dtype=np.float32)
