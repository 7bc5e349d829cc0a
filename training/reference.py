"""Score the PyPI package `sklesion` on our held-out TEST split, in the same harness as our model.

CLI: `python -m training.reference --data ../shared/data/ham10000 --out reports`

sklesion (MIT) is an Xception + metadata Keras model for the same 7 classes; its own report says
balanced accuracy 0.723 on its own test set of 1,511 images. **Its training split is unknown**:
it was very likely trained on HAM10000 images that are in our test split, so its figure here may
be inflated and is a ceiling for it, not a fair comparison.

It is fed the way its own `preprocess()` feeds it: the whole JPEG decoded by TensorFlow and
resized (not cropped) to 254x254, plus its metadata vector (one-hot sex, one-hot coarse body
site, age / 90 with the mean age when missing, an age-missing flag), built here from its
`model_props` because its pandas code does not run on pandas 3. Scores go through
`training.evaluate.compute_metrics`, so every number means what it means for our model.

sklesion pins TensorFlow 2.17 and numpy 1.26, so it is not in the requirements; install it
beside ours without its pins: `.venv/bin/pip install --no-deps sklesion==0.2.2 pandas`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

import numpy as np

from training import evaluate
from training.contract import CLASSES
from training.data import DEFAULT_DATA_DIR, DEFAULT_SPLIT_FILE, file_sha256, labels_of, read_metadata, read_split

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent

# HAM10000 localization -> sklesion's coarse location vocabulary.
SKLESION_SITES = {
    "upper extremity": "arm",
    "hand": "arm",
    "face": "head-or-neck",
    "scalp": "head-or-neck",
    "ear": "head-or-neck",
    "neck": "head-or-neck",
    "lower extremity": "leg-or-genital",
    "foot": "leg-or-genital",
    "genital": "leg-or-genital",
    "back": "trunk",
    "chest": "trunk",
    "abdomen": "trunk",
    "trunk": "trunk",
}


def sklesion_metadata(props: dict, age: str, sex: str, site: str) -> np.ndarray:
    """sklesion's metadata vector for one HAM10000 row, as its `preprocess()` builds it."""
    onehot = props["oh_map"]
    sex_vec = onehot["sex"].get(sex, onehot["sex"]["unknown"])
    loc_vec = onehot["loc"].get(SKLESION_SITES.get(site, "unknown"), onehot["loc"]["unknown"])
    missing = age.strip() == ""
    age_value = props["age_mean"] if missing else float(age)
    return np.array([*sex_vec, *loc_vec, age_value / props["age_max"], float(missing)], dtype=np.float32)


def predict_sklesion(data_dir: Path, image_ids: list[str], batch_size: int = 16) -> np.ndarray:
    """sklesion's probabilities (n, 7) in our CLASSES order for the given HAM10000 images."""
    import tensorflow as tf
    from sklesion.model import SkinLesionClassifier

    reference = SkinLesionClassifier()
    props = reference.model_props
    order = [list(props["i_cl_map"].values()).index(name) for name in CLASSES]
    metadata = {row["image_id"]: row for row in read_metadata(data_dir)}
    size = [int(v) for v in props["img_shape"]]
    out = []
    for start in range(0, len(image_ids), batch_size):
        chunk = image_ids[start : start + batch_size]
        images = tf.stack(
            [
                tf.image.resize(
                    tf.image.decode_jpeg(tf.io.read_file(str(data_dir / "images" / f"{i}.jpg")), channels=3), size
                )
                for i in chunk
            ]
        )
        meta = np.stack(
            [
                sklesion_metadata(props, metadata[i]["age"], metadata[i]["sex"], metadata[i]["localization"])
                for i in chunk
            ]
        )
        out.append(np.asarray(reference.model.predict_on_batch((images, meta)), dtype=np.float64)[:, order])
        if (start // batch_size) % 20 == 0:
            logger.info("sklesion: %d/%d images", start + len(chunk), len(image_ids))
    probabilities = np.concatenate(out)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def predict_sklesion_files(
    paths: list[Path], contexts: list[tuple[float | None, str | None, str | None]], batch_size: int = 16
) -> np.ndarray:
    """sklesion's probabilities (n, 7) in our CLASSES order for image files with (age, sex, site)."""
    import tensorflow as tf
    from sklesion.model import SkinLesionClassifier

    reference = SkinLesionClassifier()
    props = reference.model_props
    order = [list(props["i_cl_map"].values()).index(name) for name in CLASSES]
    size = [int(v) for v in props["img_shape"]]
    out = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        images = tf.stack(
            [tf.image.resize(tf.image.decode_jpeg(tf.io.read_file(str(path)), channels=3), size) for path in chunk]
        )
        meta = np.stack(
            [
                sklesion_metadata(props, "" if age is None else str(age), sex or "unknown", site or "unknown")
                for age, sex, site in contexts[start : start + batch_size]
            ]
        )
        out.append(np.asarray(reference.model.predict_on_batch((images, meta)), dtype=np.float64)[:, order])
    probabilities = np.concatenate(out)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    """CLI entry point: writes reports/sklesion.json and prints the headline numbers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="HAM10000 folder (metadata.csv, images/)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports", help="where to write sklesion.json")
    parser.add_argument("--split-file", type=Path, default=DEFAULT_SPLIT_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    try:
        import sklesion  # noqa: F401
    except ImportError:
        print("sklesion is not installed: .venv/bin/pip install --no-deps sklesion==0.2.2 pandas (skipped)")
        return 0
    rows = [r for r in read_split(args.split_file) if r.split == "test"]
    probabilities = predict_sklesion(args.data, [r.image_id for r in rows])
    metrics = evaluate.compute_metrics(probabilities, labels_of(rows))
    report = {
        "model": "sklesion 0.2.2 (PyPI, MIT): Xception + metadata, 254x254, its own preprocessing",
        "caveat": (
            "sklesion's training split is unknown; it was probably trained on HAM10000 images that are in "
            "this test split, so these figures may be inflated."
        ),
        "split_file": str(args.split_file.resolve().relative_to(REPO_ROOT))
        if args.split_file.resolve().is_relative_to(REPO_ROOT)
        else str(args.split_file),
        "split_sha256": file_sha256(args.split_file),
        "metrics": metrics,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sklesion.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    m = metrics
    print(
        f"sklesion on our test split: balanced accuracy {m['balanced_accuracy']:.3f}, macro F1 {m['macro_f1']:.3f}, "
        f"malignant AUC {m['malignant_vs_benign']['roc_auc']:.3f}, ECE {m['calibration']['ece_after_calibration']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
