"""Calibrate and export a trained classifier: `model.keras` (the source of truth) and `model.tflite`.

Used at the end of `training.train`, and as a CLI to re-export an existing model folder with a
different test-time augmentation (the temperature is refitted on validation, the test split is
re-scored, the card and `reports/` are rewritten):

    python -m training.export --model inference/model --tta 8 [--version V] [--data ../shared/data/ham10000]

The worker serves the TFLite file: measured by `make bench`, it gives the Keras model's
probabilities (within 1e-5, a test checks 1e-3) several times faster on a CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

from training import evaluate
from training.calibration import fit_temperature
from training.contract import METADATA_DESCRIPTION, METADATA_SIZE, TTA_VIEWS, ModelCard, read_card, write_card
from training.data import (
    DEFAULT_DATA_DIR,
    DEFAULT_SPLIT_FILE,
    file_sha256,
    labels_of,
    load_images,
    metadata_vectors,
    read_split,
)
from training.fusion import FUSION_C, cross_validate, fit_fusion, fused_model
from training.metrics import compute_metrics, softmax, summary_metrics, uncalibrated
from training.scoring import logits_model, predict_arrays, predict_logits

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
TFLITE_FILE = "model.tflite"
# One split for calibration and scoring: prepared uint8 images, their metadata vectors (None: image only), labels.
Split = tuple[np.ndarray, np.ndarray | None, np.ndarray]


def export_model(model: Any, temperature: float, out_dir: Path) -> Path:
    """Save model.keras: the logits model plus temperature scaling and softmax (probabilities out)."""
    import keras

    if isinstance(model.input_shape, list):
        inputs = [keras.Input(model.input_shape[0][1:], name="image"), keras.Input((METADATA_SIZE,), name="metadata")]
    else:
        inputs = keras.Input(model.input_shape[1:], name="image")
    # A fresh copy without the training optimizer (clone_model keeps it): its Adam moments
    # would triple the file size.
    clean = keras.Model.from_config(model.get_config())
    clean.set_weights(model.get_weights())
    logits = clean(inputs)
    scaled = keras.layers.Rescaling(1.0 / temperature, name="temperature_scaling")(logits)
    probabilities = keras.layers.Softmax(name="probabilities")(scaled)
    exported = keras.Model(inputs, probabilities, name="lesion_classifier_calibrated")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "model.keras"
    exported.save(path)
    return path


def export_tflite(model: Any, out_dir: Path, *, float16: bool = False) -> Path:
    """Convert the exported (probabilities-out) Keras model to `model.tflite`, float32, no quantisation;
    with `float16`, its weights are stored as float16 (half the file; the CPU still computes in float32)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if float16:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    # Keras prints every traced variable's spec while converting; keep training logs readable.
    with contextlib.redirect_stdout(io.StringIO()):
        flatbuffer = converter.convert()
    path = out_dir / TFLITE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(flatbuffer)
    tmp.replace(path)
    return path


def calibrate_and_export(
    model: Any, val: Split, test: Split, views: int, out_dir: Path
) -> tuple[float, np.ndarray, np.ndarray]:
    """Fit T on validation (averaged over `views`), write model.keras and model.tflite.

    `val` and `test` are (images, metadata or None, labels). Returns (temperature, validation
    probabilities, test probabilities), both scored from the reloaded file, as served.
    """
    import keras

    x_val, m_val, y_val = val
    x_test, m_test, _ = test
    val_logits = predict_logits(model, x_val, m_val, views)
    temperature = fit_temperature(val_logits, y_val)
    logger.info("Temperature fitted on validation (%d views): %.4f", views, temperature)
    model_path = export_model(model, temperature, out_dir)
    exported = keras.saving.load_model(model_path, compile=False)  # score the artifact as it will be served
    val_probs = predict_arrays(exported, x_val, m_val, views)
    if not np.allclose(val_probs, softmax(val_logits / temperature), atol=1e-4):
        raise SystemExit("the reloaded model does not reproduce the trained one")
    export_tflite(exported, out_dir)
    test_probs = predict_arrays(exported, x_test, m_test, views)
    return temperature, val_probs, test_probs


def takes_metadata(model: Any) -> bool:
    """Whether a Keras model has the metadata input besides the image."""
    return isinstance(model.input_shape, list)


def fuse_and_export(
    model: Any, val: Split, test: Split, views: int, out_dir: Path, c: float = FUSION_C
) -> dict[str, Any]:
    """Fit the metadata fusion layer on validation (instead of a temperature); write both files.

    `model` is the image-only logits model; `val` and `test` are (images, metadata, labels).
    Returns the probabilities of the reloaded file on both splits, the image model's own
    probabilities before fusion (for "before calibration"), and the fusion's description.
    """
    import keras

    x_val, m_val, y_val = val
    x_test, m_test, _ = test
    if m_val is None or m_test is None:
        raise ValueError("the metadata fusion needs the metadata vectors of both splits")
    val_logits = predict_logits(model, x_val, None, views)
    fusion = fit_fusion(val_logits, m_val, y_val, c)
    exported = fused_model(model, fusion)
    out_dir.mkdir(parents=True, exist_ok=True)
    exported.save(out_dir / "model.keras")
    reloaded = keras.saving.load_model(out_dir / "model.keras", compile=False)
    val_probs = predict_arrays(reloaded, x_val, m_val, views)
    if not np.allclose(val_probs, fusion.probabilities(val_logits, m_val), atol=1e-4):
        raise SystemExit("the reloaded model does not reproduce the fitted fusion")
    export_tflite(reloaded, out_dir)
    test_logits = predict_logits(model, x_test, None, views)
    return {
        "val": val_probs,
        "test": predict_arrays(reloaded, x_test, m_test, views),
        "val_raw": softmax(val_logits),
        "test_raw": softmax(test_logits),
        "calibration": {
            "method": "fusion",
            "description": (
                f"multinomial logistic regression on [mean logits over {views} views, metadata vector], "
                f"fitted on the validation split, class-balanced, C={c}, then a temperature "
                f"T={fusion.temperature:.3f} fitted on its out-of-fold scores; replaces temperature scaling"
            ),
            "c": c,
            "temperature_on_out_of_fold_scores": fusion.temperature,
            "cross_validated_on_validation": {
                "image_only": cross_validate(val_logits, None, y_val, c),
                "with_metadata": cross_validate(val_logits, m_val, y_val, c),
            },
        },
    }


def serving_section(out_dir: Path, views: int) -> dict[str, Any]:
    """The model card's `serving` entry."""
    path = out_dir / TFLITE_FILE
    return {
        "runtime": "tflite",
        "file": TFLITE_FILE,
        "bytes": path.stat().st_size,
        "sha256": file_sha256(path),
        "source": "converted from model.keras (float32, no quantisation); model.keras stays the source of truth",
        "test_time_augmentation": views,
    }


def export_and_score(model: Any, val: Split, test: Split, views: int, out_dir: Path, fusion: bool) -> dict[str, Any]:
    """Calibrate (metadata fusion or temperature), write model.keras + model.tflite, score both splits.

    `model` is the logits model; `val`/`test` are (images, metadata or None, labels).
    """
    if fusion:
        if takes_metadata(model):
            raise SystemExit("metadata fusion needs an image-only model (this one takes metadata itself)")
        return fuse_and_export(model, val, test, views, out_dir)
    temperature, val_probs, test_probs = calibrate_and_export(model, val, test, views, out_dir)
    return {
        "val": val_probs,
        "test": test_probs,
        "val_raw": uncalibrated(val_probs, temperature),
        "test_raw": uncalibrated(test_probs, temperature),
        "temperature": temperature,
        "calibration": {
            "method": "temperature",
            "description": f"temperature scaling, T={temperature:.4f} fitted on the validation split (NLL)",
        },
    }


def update_card(
    card: ModelCard, result: dict[str, Any], views: int, out_dir: Path, labels: dict[str, np.ndarray]
) -> ModelCard:
    """Record the calibration, serving files and metrics of `export_and_score` in the model card."""
    fused = result["calibration"]["method"] == "fusion"
    model_path = out_dir / "model.keras"
    card.update(
        {
            "temperature": result.get("temperature"),
            "calibration": result["calibration"],
            "test_time_augmentation": views,
            "serving": serving_section(out_dir, views),
            "model_file": {
                "name": model_path.name,
                "bytes": model_path.stat().st_size,
                "sha256": file_sha256(model_path),
            },
        }
    )
    if fused:
        card["metadata_input"] = {
            "function": "training.contract.encode_metadata",
            "shape": [METADATA_SIZE],
            "description": METADATA_DESCRIPTION,
            "used_by": "the fusion layer after the image model (late fusion); any field may be missing",
        }
        card["output"] = "softmax probabilities over `classes` from the fusion layer (calibrated on validation)"
    if fused:
        card["metrics_note"] = (
            "The fusion layer was fitted on the validation split, so the validation figures are in-sample "
            "(optimistic); calibration.cross_validated_on_validation holds the out-of-fold estimate."
        )
    card["metrics"] = {
        split: summary_metrics(
            compute_metrics(result[key], labels[key], result.get("temperature"), result[f"{key}_raw"])
        )
        for split, key in (("test", "test"), ("validation", "val"))
    }
    return card


def write_report(
    result: dict[str, Any], labels: np.ndarray, model_version: str, split_file: Path, out_dir: Path
) -> dict[str, Any]:
    """`reports/` for the test split of an `export_and_score` result."""
    return evaluate.write_report(
        result["test"],
        labels,
        temperature=result.get("temperature"),
        raw=result["test_raw"],
        calibration=result["calibration"]["description"],
        model_version=model_version,
        split_file=split_file,
        out_dir=out_dir,
    )


def main(argv: list[str] | None = None) -> int:
    """Re-export a model folder: refit the calibration, write both files, re-score, update card and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "inference" / "model", help="model folder")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="HAM10000 folder (metadata.csv, images/)")
    parser.add_argument("--tta", type=int, default=TTA_VIEWS, choices=(1, 2, 4, 8), help="dihedral views per photo")
    parser.add_argument(
        "--fusion",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="calibrate with the metadata fusion layer (--no-fusion: a temperature)",
    )
    parser.add_argument("--version", required=True, help="the new model version: its outputs change")
    parser.add_argument("--split-file", type=Path, default=DEFAULT_SPLIT_FILE)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "skinsite-training")
    parser.add_argument("--report-dir", type=Path, default=REPO_ROOT / "reports")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    import training.layers  # noqa: F401 - registers the custom layers a model file may hold

    card = read_card(args.model)
    model = logits_model(keras.saving.load_model(args.model / "model.keras", compile=False))
    rows = read_split(args.split_file)
    parts = {}
    for split in ("val", "test"):
        part = [r for r in rows if r.split == split]
        ids = [r.image_id for r in part]
        images = load_images(args.data, ids, int(card["input_size"]), args.cache_dir)
        meta = metadata_vectors(args.data, ids) if args.fusion or takes_metadata(model) else None
        parts[split] = (images, meta, labels_of(part))
    result = export_and_score(model, parts["val"], parts["test"], args.tta, args.model, args.fusion)
    card["version"] = args.version  # analyses are stored per model version
    card["exported_by"] = {"command": "python -m training.export " + shlex.join(sys.argv[1:] if argv is None else argv)}
    labels = {"val": parts["val"][2], "test": parts["test"][2]}
    write_card(args.model, update_card(card, result, args.tta, args.model, labels))
    write_report(result, labels["test"], card["version"], args.split_file, args.report_dir)
    logger.info("Test: %s", json.dumps(card["metrics"]["test"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
