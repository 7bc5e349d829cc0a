"""After the CNN: fit the photo-type detector and the fusion on multi-source data, export, write the card.

`finish()` is the last step of `python -m training.train sources`. Every figure it records is
measured on the validation part of each source (grouped out-of-fold for the fusion, which is
fitted there) or on the HAM10000 test split, per source, metadata blank.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from training.augment import AUGMENTATION_DESCRIPTION
from training.contract import (
    CLASS_LABELS,
    CLASSES,
    MALIGNANT_CLASSES,
    METADATA_DESCRIPTION,
    METADATA_SIZE,
    PREPROCESSING_VERSION,
    ModelCard,
    describe,
    write_card,
)
from training.data import DEFAULT_SPLIT_FILE, file_sha256, labels_of
from training.export import export_tflite
from training.metrics import compute_metrics, softmax, summary_metrics
from training.model import BACKBONES, Backbone
from training.multisource import (
    PHOTO_TYPE_MODES,
    cross_fit_rank_calibration,
    exported_model,
    fit_photo_type,
    group_folds,
)
from training.scoring import cnn_outputs
from training.source_metrics import malignant_score, operating_points, source_metrics
from training.sources import SOURCES, Sample, clinical_of, malignant_of

logger = logging.getLogger(__name__)

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


def backbone_of(cnn: Any) -> Backbone:
    """Which backbone a CNN holds (a fine-tuned CNN keeps its backbone's name, however deeply nested)."""
    names = {layer.name for layer in cnn._flatten_layers(include_self=False, recursive=True)}
    return BACKBONES["efficientnet_lite0"] if "efficientnet_lite0" in names else BACKBONES["mobilenetv2_050"]


def finish(
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
    """Fit detector and fusion, export `model.keras` + `model.tflite` + `model_card.json` to `out_dir`."""
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
    tflite = export_tflite(reloaded, out_dir, float16=tflite_float16)

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
        "serving": {
            "runtime": "tflite",
            "file": tflite.name,
            "bytes": tflite.stat().st_size,
            "sha256": file_sha256(tflite),
            "source": "converted from model.keras ("
            + ("float16 weights, float32 arithmetic" if tflite_float16 else "float32, no quantisation")
            + "); model.keras stays the source of truth",
            "test_time_augmentation": views,
        },
        "model_file": {
            "name": "model.keras",
            "bytes": (out_dir / "model.keras").stat().st_size,
            "sha256": file_sha256(out_dir / "model.keras"),
        },
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
