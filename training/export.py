"""Export a trained classifier: `model.keras` (the source of truth), `model.tflite` and the model card.

The one export step of both recipes (`python -m training.train`):

- `export_multisource`, the last step of `sources` (`make train`): fits the photo-type detector and
  the rank-keeping calibration (`training.multisource`) on every source's validation part, exports the
  served graph, measures it per source and writes the card;
- `export_and_score`, the end of `ham10000` (the earlier, HAM10000-only recipe): a temperature or
  the metadata fusion fitted on validation, then the test split scored. As a CLI it re-exports an
  existing HAM10000-only model folder with a different test-time augmentation (the calibration is
  refitted on validation, the test split is re-scored, the card and `reports/` are rewritten):

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from training import evaluate
from training.augment import AUGMENTATION_DESCRIPTION
from training.calibration import fit_temperature
from training.contract import (
    CLASS_LABELS,
    CLASSES,
    MALIGNANT_CLASSES,
    METADATA_DESCRIPTION,
    METADATA_SIZE,
    PREPROCESSING_VERSION,
    TTA_VIEWS,
    ModelCard,
    describe,
    read_card,
    write_card,
)
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
from training.model import backbone_of
from training.multisource import (
    PHOTO_TYPE_MODES,
    cross_fit_rank_calibration,
    exported_model,
    fit_photo_type,
    group_folds,
)
from training.scoring import cnn_outputs, logits_model, predict_arrays, predict_logits
from training.source_metrics import malignant_score, operating_points, source_metrics
from training.sources import SOURCES, Sample, clinical_of, malignant_of

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


def serving_section(out_dir: Path, views: int, *, float16: bool = False) -> dict[str, Any]:
    """The model card's `serving` entry for the TFLite file `export_tflite` wrote (`float16`: its weights)."""
    path = out_dir / TFLITE_FILE
    return {
        "runtime": "tflite",
        "file": TFLITE_FILE,
        "bytes": path.stat().st_size,
        "sha256": file_sha256(path),
        "source": "converted from model.keras ("
        + ("float16 weights, float32 arithmetic" if float16 else "float32, no quantisation")
        + "); model.keras stays the source of truth",
        "test_time_augmentation": views,
    }


def model_file_section(out_dir: Path) -> dict[str, Any]:
    """The model card's `model_file` entry for `model.keras` in `out_dir`."""
    path = out_dir / "model.keras"
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}


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
    card.update(
        {
            "temperature": result.get("temperature"),
            "calibration": result["calibration"],
            "test_time_augmentation": views,
            "serving": serving_section(out_dir, views),
            "model_file": model_file_section(out_dir),
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


# --- The multi-source recipe -----------------------------------------------------------------

LICENCES = {
    "ham10000": "HAM10000: Tschandl P., Rosendahl C., Kittler H., Sci. Data 5, 180161 (2018), "
    "doi:10.1038/sdata.2018.161; CC BY-NC-SA 4.0 (non-commercial, share alike).",
    "derm7pt": "Derm7pt: Kawahara J. et al., IEEE JBHI 23(2):538-546 (2019), doi:10.1109/JBHI.2018.2824327; "
    "cropped copy by Nápoles, Grau, Salgueiro (gnapoles/Consistent-Derm7pt), CC BY-NC-ND 4.0 per that "
    "repository (non-commercial; the dataset is treated as CC BY-NC-SA 4.0 like HAM10000).",
    "isic2017": "ISIC 2017: Codella N. C. F. et al., ISBI 2018, arXiv:1710.05006; ISIC Archive images, CC0 as far "
    "as known (confirmed for 2016, not verified for 2017); attribute ISIC.",
    "ph2": "PH2: Mendonça T. et al., 35th IEEE EMBC 2013, pp. 5437-5440; free for research with citation, "
    "not an open licence.",
    "pad_ufes20": "PAD-UFES-20: Pacheco A. G. C. et al., Data in Brief 32 (2020) 106221, "
    "doi:10.17632/zr7vgbcyr2.1; CC BY 4.0.",
}


def _per_source(samples: list[Sample], probabilities: np.ndarray) -> dict[str, Any]:
    sources = np.array([s.source for s in samples])
    out = {}
    for source in SOURCES:
        mask = sources == source
        if mask.any():
            part = [s for s, m in zip(samples, mask, strict=True) if m]
            out[source] = _rounded(source_metrics(part, probabilities[mask]))
    return out


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def export_multisource(
    cnn: Any,
    samples: list[Sample],
    images: np.ndarray,
    *,
    out_dir: Path,
    version: str,
    views: int,
    fusion_metadata: bool = False,
    training: dict[str, Any],
    detector_train_cap: int = 2500,
    tflite_float16: bool = False,
) -> ModelCard:
    """Fit detector and fusion on multi-source data, export `model.keras` + `model.tflite` + `model_card.json` to
    `out_dir`: the last step of `python -m training.train sources`. Every figure it records is measured on the
    validation part of each source (grouped out-of-fold for the fusion, which is fitted there) or on the HAM10000
    test split, per source, metadata blank."""
    import keras

    backbone = backbone_of(cnn)

    rng = np.random.default_rng(0)
    # Photo-type detector: every clinical training photo and a sample of the dermoscopy ones.
    train_idx = np.array([i for i, s in enumerate(samples) if s.split == "train"])
    clinical_train = clinical_of([samples[i] for i in train_idx]).astype(bool)
    dermoscopy = train_idx[~clinical_train]
    chosen = np.sort(
        np.concatenate([train_idx[clinical_train], rng.choice(dermoscopy, detector_train_cap, replace=False)])
    )
    det_features, _ = cnn_outputs(cnn, images[chosen], 1)
    detector = fit_photo_type(det_features.astype(np.float32), clinical_of([samples[i] for i in chosen]))
    logger.info("Photo-type detector fitted on %d training photos", len(chosen))

    val_idx = np.array([i for i, s in enumerate(samples) if s.split == "val" and s.class_index >= 0])
    val = [samples[i] for i in val_idx]
    val_features, val_logits = cnn_outputs(cnn, images[val_idx], views)
    t_val = detector.probability(val_features.astype(np.float32))
    clinical_val = clinical_of(val)
    detector_accuracy = float(((t_val >= 0.5) == clinical_val.astype(bool)).mean())
    sources = np.array([s.source for s in val])
    folds = group_folds([f"{s.source}/{s.group}" for s in val])
    labels = labels_of(val)
    meta = np.zeros((len(val), METADATA_SIZE), dtype=np.float32)
    # Chosen on grouped out-of-fold validation: a 7-class logistic-regression fusion on [logits,
    # t, t * logits] lowered the malignant AUC (HAM10000 0.893 -> 0.869, PH2 0.758 -> 0.667, PAD-UFES-20
    # 0.887 -> 0.842 for this CNN); the rank-keeping calibration leaves it as the CNN has it.
    # How the photo type enters the calibration ("none", "malignant": its own malignant intercept,
    # "classes": also its own class biases): whichever scores the highest mean over the sources of
    # (out-of-fold malignant AUC - malignant calibration error), with the *detected* type, so a
    # misdetected photo (calibrated as the other type) counts against using it.
    variants = {}
    for mode in PHOTO_TYPE_MODES:
        fitted, scores = cross_fit_rank_calibration(val_logits, t_val, labels, folds, mode)
        metrics = _per_source(val, scores)
        score = float(
            np.mean(
                [
                    m["malignant_roc_auc"] - m["malignant_calibration_error"]
                    for m in metrics.values()
                    if m["malignant_roc_auc"]
                ]
            )
        )
        variants[mode] = (score, fitted, scores, metrics)
        logger.info("Photo type %s: mean AUC - calibration error %.4f", mode, score)
    photo_type_mode = max(variants, key=lambda mode: variants[mode][0])
    _, calibration, oof, oof_metrics = variants[photo_type_mode]
    fusion = calibration.fusion()
    raw_metrics = _per_source(val, softmax(val_logits))
    logger.info("Out-of-fold per source %s", {k: v["malignant_roc_auc"] for k, v in oof_metrics.items()})
    del sources

    model = exported_model(cnn, detector, fusion, calibration)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / "model.keras")
    reloaded = keras.saving.load_model(out_dir / "model.keras", compile=False)
    check = np.asarray(images[val_idx[:16]], dtype=np.float32)
    given = np.zeros((len(check), 2), dtype=np.float32)
    out = np.asarray(reloaded.predict_on_batch([check, meta[:16], given]), dtype=np.float64)
    f1, l1 = cnn_outputs(cnn, check, 1)
    t1 = detector.probability(f1.astype(np.float32))
    expected = calibration.probabilities(l1, t1)
    if not np.allclose(out[:, : len(CLASSES)], expected, atol=1e-3) or not np.allclose(out[:, -1], t1, atol=1e-3):
        raise SystemExit("the exported model does not reproduce the fitted detector and fusion")
    export_tflite(reloaded, out_dir, float16=tflite_float16)

    test_idx = np.array([i for i, s in enumerate(samples) if s.split == "test" and s.source == "ham10000"])
    test = [samples[i] for i in test_idx]
    test_features, test_logits = cnn_outputs(cnn, images[test_idx], views)
    t_test = detector.probability(test_features.astype(np.float32))
    test_probs = calibration.probabilities(test_logits, t_test)
    ham_test = _rounded(source_metrics(test, test_probs))
    # The HAM10000 test split in the shape earlier cards had (the /learn/model/ page reads it).
    test_summary = summary_metrics(compute_metrics(test_probs, labels_of(test), None, softmax(test_logits)))
    ham_rows = [s for s in samples if s.source == "ham10000"]
    per_split_and_class = {
        split: {c: sum(1 for s in ham_rows if s.split == split and s.dx == c) for c in CLASSES}
        for split in ("train", "val", "test")
    }
    malignant = malignant_of(val)
    card: ModelCard = {
        "name": "Skinsite lesion classifier (dermoscopy and phone photos)",
        "version": version,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "classes": list(CLASSES),
        "class_names": CLASS_LABELS,
        "malignant_classes": list(MALIGNANT_CLASSES),
        "malignant_probability": "sum of the akiec, bcc and mel probabilities",
        "input_size": int(cnn.input_shape[1]),
        "input": {
            "shape": list(cnn.input_shape[1:]),
            "dtype": "float32",
            "range": "RGB 0..255 (the model applies colour constancy and scales to -1..1 itself)",
        },
        "metadata_input": {
            "function": "training.contract.encode_metadata",
            "shape": [METADATA_SIZE],
            "description": METADATA_DESCRIPTION,
            "used_by": "nothing: accepted for compatibility, its weights are 0. Fitted with it, a fusion "
            "layer lost malignant AUC on other sources (see calibration); most real photos come without "
            "age or sex",
        },
        "photo_type": {
            "types": ["dermoscopy", "clinical"],
            "input": "photo_type: float32 [given, clinical]; [0, 0] = detect, [1, 1] = clinical, [1, 0] = dermoscopy",
            "output": "column 7 of the output: the detector's probability that the photo is clinical "
            "(>= 0.5: clinical)",
            "detector": "logistic regression on the CNN's pooled features, fitted on the training part of every source "
            f"({len(chosen)} photos: all clinical ones and {detector_train_cap} dermoscopy ones)",
            "validation_accuracy": round(detector_accuracy, 4),
            "design": "one CNN trained on both photo types; the photo type (detected, or given by the user) enters "
            "the calibration. Three ways were compared on grouped out-of-fold validation with the detected type "
            "(none; clinical photos' own malignant intercept; also their own class biases), keeping the highest "
            "mean over sources of malignant AUC minus calibration error (calibration.photo_type_mode, "
            "calibration.photo_type_modes_out_of_fold)",
        },
        "preprocessing": {
            "function": "training.contract.prepare_image",
            "version": PREPROCESSING_VERSION,
            "description": describe(int(cnn.input_shape[1]), backbone.input_scaling),
            "decoding": "training.contract.open_image: JPEGs decoded at a reduced scale (Pillow draft) "
            "whose sides stay >= the input size",
        },
        "output": "8 values: softmax probabilities over `classes` (fusion layer, calibrated on multi-source "
        "validation), then the clinical probability",
        "backbone": {
            "architecture": f"Shades-of-Gray colour constancy (p=6), {backbone.description}, "
            "average pooling, dropout 0.3, dense 7",
            "initialisation": training.get("init_from"),
            "weights_source": backbone.weights_source,
        },
        "training": {
            **training,
            "data": "HAM10000 (10,015 dermoscopy images, 320x240 copies) + Derm7pt, ISIC 2017, PH2 (dermoscopy) and "
            "PAD-UFES-20 (smartphone photos); training part of each source for the CNN, validation parts for "
            "the calibration and the detector's check",
            "split_unit": "HAM10000 by lesion_id (70/15/15); external sets by patient or lesion (60/40)",
            "images_per_split": {k: sum(v.values()) for k, v in per_split_and_class.items()},
            "images_per_split_and_class": per_split_and_class,
            "images_per_source_and_split": {
                source: {
                    split: sum(1 for s in samples if s.source == source and s.split == split)
                    for split in ("train", "val", "test")
                }
                for source in SOURCES
            },
            "split_files": {
                "ham10000": "training/splits/ham10000_split.csv (by lesion)",
                "external": "training/splits/external_split.csv (by patient or lesion, 60/40 per source)",
            },
            "external_split_sha256": file_sha256(Path(__file__).resolve().parent / "splits" / "external_split.csv"),
            "split_file": "training/splits/ham10000_split.csv",
            "split_sha256": file_sha256(DEFAULT_SPLIT_FILE),
            "sampling": "classes balanced within each source (training.sources.balanced_weights), phone photos "
            f"x{training.get('clinical_share')} their share",
            "augmentation": AUGMENTATION_DESCRIPTION,
        },
        "calibration": {
            "method": "rank-keeping",
            "description": (
                f"softmax(mean logits over {views} views / T + t * b), T={calibration.temperature:.3f}, "
                "b = one bias per class for clinical photos (t = 1); then the malignant share m becomes "
                if photo_type_mode == "classes"
                else f"softmax(mean logits over {views} views / T), T={calibration.temperature:.3f}, the same for "
                "both photo types; then the malignant share m becomes "
            )
            + f"sigmoid({calibration.a:.3f} logit(m) + {calibration.c:.3f} + {calibration.d:.3f} t) with the classes' "
            "proportions kept (training.layers.MalignantRecalibration). Fitted on the validation part of every "
            "source (metadata blank); within a photo type the malignant ranking, so the AUC, is the CNN's.",
            "temperature": calibration.temperature,
            "clinical_bias": [round(float(v), 4) for v in calibration.clinical_bias],
            "malignant_recalibration": {"a": calibration.a, "c": calibration.c, "d": calibration.d},
            "out_of_fold_per_source": oof_metrics,
            "before_calibration_per_source": raw_metrics,
            "photo_type_used": photo_type_mode != "none",
            "photo_type_mode": photo_type_mode,
            "photo_type_modes_out_of_fold": {
                mode: {
                    "mean_auc_minus_calibration_error": round(variants[mode][0], 4),
                    "per_source": {
                        k: {"auc": v["malignant_roc_auc"], "calibration_error": v["malignant_calibration_error"]}
                        for k, v in variants[mode][3].items()
                    },
                }
                for mode in PHOTO_TYPE_MODES
            },
            "alternative_tried": "7-class logistic-regression fusion on [logits, metadata, t, t * logits], classes "
            "balanced within each source: grouped out-of-fold malignant AUC HAM10000 0.869, Derm7pt 0.787, ISIC 2017 "
            "0.561, PH2 0.667, PAD-UFES-20 0.842 (this calibration: see out_of_fold_per_source); not kept",
        },
        "metrics": {
            "note": "validation = each source's validation part, scored out of fold (the fusion is fitted there); "
            "ham10000_test = the HAM10000 test split (never used for a choice); metadata blank throughout",
            "validation_per_source": oof_metrics,
            "ham10000_test": ham_test,
            "test": test_summary,
        },
        "operating_points": {
            "data": "out-of-fold malignant probability on the validation part of every source together",
            "points": _rounded(operating_points(malignant, malignant_score(oof))),
        },
        "test_time_augmentation": views,
        "serving": serving_section(out_dir, views, float16=tflite_float16),
        "model_file": model_file_section(out_dir),
        "intended_use": (
            "Skinsite shows these probabilities to help people follow their own skin lesions over time. The model "
            "informs, it does not diagnose. It was trained on dermoscopy images and on a few hundred phone photos "
            "from one Brazilian dataset; see metrics for what holds where. Any worrying or changing lesion needs "
            "a physician."
        ),
        "licence": "Trained on several datasets; the model inherits the strictest terms: non-commercial use only, "
        "attribute the authors, share alike. " + " ".join(LICENCES.values()),
        "data_attributions": LICENCES,
    }
    write_card(out_dir / "model_card.json", card)
    logger.info("HAM10000 test: %s", json.dumps({k: v for k, v in ham_test.items() if k != "recall_per_class"}))
    return card


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
