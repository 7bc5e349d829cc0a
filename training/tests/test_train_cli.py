"""`make train` end to end on a small stand-in data set: split, train, fuse, export, card, report.

The real run takes half an hour on HAM10000; this one uses 36 lesions per class of tiny tinted
copies of the committed test images, 64 px inputs (the smallest with a 2x2 last feature map for
Grad-CAM) and one epoch, so every step of `training.train.main` runs in seconds: the
lesion-level split, the metadata, the CNN, the fusion layer fitted on validation, the multi-view
export to Keras and TFLite, the model card and reports/.
"""

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

from inference.engine import Classifier, Context
from training.contract import CLASSES, TTA_VIEWS
from training.data import read_split
from training.train import main

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "ham10000"
LESIONS_PER_CLASS = 36  # enough for 5 validation lesions per class: the fusion's 5-fold CV needs them


def _small_ham10000(folder: Path) -> None:
    (folder / "images").mkdir(parents=True)
    with (TESTDATA / "metadata.csv").open(newline="", encoding="utf-8") as fh:
        sources = {row["dx"]: TESTDATA / f"{row['image_id']}.jpg" for row in csv.DictReader(fh)}
    rng = np.random.default_rng(0)
    rows = []
    for dx in CLASSES:
        base = Image.open(sources[dx]).convert("RGB").resize((40, 30))
        for n in range(LESIONS_PER_CLASS):
            lesion = f"HAM_{dx}{n:03d}"
            for k in range(1 + n % 2):  # some lesions have two images, as in HAM10000
                image_id = f"ISIC_{dx}{n:03d}{k}"
                tint = rng.integers(-20, 20, 3)
                pixels = np.clip(np.asarray(base, dtype=np.int16) + tint, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / "images" / f"{image_id}.jpg")
                sex = ("male", "female", "")[n % 3]
                age = "" if n % 5 == 0 else str(30 + n)
                rows.append([lesion, image_id, dx, "histo", age, sex, ("back", "face", "unknown")[n % 3]])
    with (folder / "metadata.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization"])
        writer.writerows(rows)


def test_train_writes_a_servable_model_its_card_and_its_report(tmp_path):
    data, out, reports, split = tmp_path / "ham", tmp_path / "model", tmp_path / "reports", tmp_path / "split.csv"
    _small_ham10000(data)
    argv = [
        "ham10000",
        "--data", str(data), "--out", str(out), "--report-dir", str(reports), "--split-file", str(split),
        "--cache-dir", str(tmp_path / "cache"), "--backbone", "scratch", "--image-size", "64",
        "--head-epochs", "0", "--epochs", "1", "--batch-size", "64", "--version", "tiny-test",
    ]  # fmt: skip
    assert main(argv) == 0

    rows = read_split(split)
    parts = {}
    for row in rows:
        parts.setdefault(row.lesion_id, set()).add(row.split)
    assert all(len(p) == 1 for p in parts.values())  # the split is by lesion

    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    assert card["version"] == "tiny-test" and card["input_size"] == 64
    assert card["backbone"]["colour_constancy"].startswith("Shades of Gray")  # the default recipe
    assert card["calibration"]["method"] == "fusion" and card["metadata_input"]["shape"] == [18]
    assert card["test_time_augmentation"] == TTA_VIEWS and card["serving"]["runtime"] == "tflite"
    assert set(card["calibration"]["cross_validated_on_validation"]) == {"image_only", "with_metadata"}
    assert card["metrics"]["test"]["n_images"] == sum(r.split == "test" for r in rows)
    report = json.loads((reports / "evaluation.json").read_text(encoding="utf-8"))
    assert report["model_version"] == "tiny-test"
    assert {p.name for p in reports.glob("*.png")} == {"confusion_matrix.png", "reliability.png", "roc_malignant.png"}

    # The exported folder is what the worker loads: TFLite with the card's views and metadata.
    classifier = Classifier.load(out)
    assert classifier.runtime == "tflite" and classifier.uses_metadata and classifier.views == TTA_VIEWS
    with Image.open(next((data / "images").glob("*.jpg"))) as image:
        prediction = classifier.predict(image, Context(age=50, sex="male", site="back"))
        assert abs(sum(prediction.probabilities.values()) - 1) < 1e-6
        assert classifier.heatmap(image, Context(site="face"), prediction.predicted_class).values.ndim == 2
