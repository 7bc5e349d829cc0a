"""The training CLI: train the lesion classifier and export it with its model card.

    python -m training.train sources --out inference/model --version V [--init-from inference/model] ...
    python -m training.train ham10000 --data ../shared/data/ham10000 --out inference/model \
        [--epochs N] [--image-size N] [--seed N] [--backbone mobilenetv2_035|mobilenetv2_050|scratch] \
        [--weights-dir ../shared/weights]

`sources` is the served recipe (`make train`): HAM10000 and the external sets, in
`training.train_sources`. `ham10000` is the recipe of the earlier, HAM10000-only versions, below.

HAM10000-only recipe (sized for a 2-core CPU): every image is decoded and prepared once into a uint8 array
(cached on disk); a MobileNetV2 with offline ImageNet weights gets a new 7-class head, trained
first on the frozen backbone, then the whole network is fine-tuned at a low learning rate with
BatchNorm kept in inference mode. Class weights counter the 58:1 imbalance between nevi and
dermatofibromas. The epoch with the best validation balanced accuracy is kept, a temperature is
fitted on the validation split and folded into the exported model, and the test split is scored
once at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from training import evaluate, train_sources
from training.augment import affine_warp
from training.contract import (
    CLASS_LABELS,
    CLASSES,
    DEFAULT_IMAGE_SIZE,
    MALIGNANT_CLASSES,
    METADATA_DESCRIPTION,
    METADATA_SIZE,
    PREPROCESSING_VERSION,
    TTA_VIEWS,
    ModelCard,
    describe,
    write_card,
)
from training.data import (
    DEFAULT_DATA_DIR,
    DEFAULT_SEED,
    DEFAULT_SPLIT_FILE,
    SplitRow,
    file_sha256,
    labels_of,
    load_images,
    load_or_create_split,
    metadata_vectors,
    split_summary,
)
from training.export import export_and_score, update_card, write_report
from training.metrics import summary_metrics  # noqa: F401 - re-exported for callers of train
from training.model import BACKBONES, Backbone, build_model, class_weights
from training.scoring import predict_logits

logger = logging.getLogger("training.train")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WEIGHTS_DIR = REPO_ROOT.parent / "shared" / "weights"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "skinsite-training"


# Share of training images whose age, sex or body site is blanked (each drawn independently).
METADATA_DROPOUT = {"age": 0.2, "sex": 0.2, "site": 0.1}

AUGMENTATION = (
    "one affine warp per image: rotation by any angle, random mirror, zoom 0.9-1.2x, shift ±5% "
    "(reflect fill); then saturation ±10%, contrast ±15%, brightness ±10% of full scale"
)


def augmenter(seed: int) -> Callable[[Any, Any], tuple[Any, Any]]:
    """Random dermoscopy-friendly augmentation of a uint8 batch, returning float32 0..255.

    Flip, rotation, zoom and shift come from `training.augment.affine_warp` (the multi-source
    recipe's warp, here without its stretch and with a gentler zoom and shift), then colour.
    """
    import tensorflow as tf

    # A Generator keeps its state across epochs; seeded tf.random ops inside Dataset.map restart
    # with every new iterator and would repeat the same "random" augmentation each epoch.
    generator = tf.random.Generator.from_seed(seed)

    def uniform(shape: Any, low: float, high: float) -> Any:
        return generator.uniform(shape, low, high)

    def drop(meta: Any, start: int, stop: int, rate: float) -> Any:
        # Blank one field (age, sex or site) for a random share of the images, so the model also
        # learns to answer when a patient has not given it.
        n = tf.shape(meta)[0]
        keep = tf.cast(uniform([n, 1], 0.0, 1.0) >= rate, tf.float32)
        width = meta.shape[1]
        mask = tf.concat([tf.ones([n, start]), tf.tile(keep, [1, stop - start]), tf.ones([n, width - stop])], axis=1)
        return meta * mask

    def apply(features: Any, labels: Any) -> tuple[Any, Any]:
        if isinstance(features, tuple):
            images, meta = features
            meta = drop(meta, 0, 2, METADATA_DROPOUT["age"])
            meta = drop(meta, 2, 4, METADATA_DROPOUT["sex"])
            meta = drop(meta, 4, METADATA_SIZE, METADATA_DROPOUT["site"])
            augmented, labels = apply(images, labels)
            return (augmented, meta), labels
        x = tf.cast(features, tf.float32)
        n = tf.shape(x)[0]
        x = affine_warp(x, uniform, zoom=(0.9, 1.2), shift=0.05)
        # Colour: lighting and camera differences between the dermatoscopes.
        grey = tf.reduce_mean(x, axis=-1, keepdims=True)
        x = grey + (x - grey) * uniform([n, 1, 1, 1], 0.9, 1.1)
        mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
        x = (x - mean) * uniform([n, 1, 1, 1], 0.85, 1.15) + mean + uniform([n, 1, 1, 1], -25.5, 25.5)
        return tf.clip_by_value(x, 0.0, 255.0), labels

    return apply


def train_dataset(images: np.ndarray, meta: np.ndarray | None, labels: np.ndarray, batch_size: int, seed: int) -> Any:
    """Shuffled, augmented batches of the training images (with their metadata vectors, if given)."""
    import tensorflow as tf

    features = images if meta is None else (images, meta)
    ds = tf.data.Dataset.from_tensor_slices((features, labels))
    ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    ds = ds.map(augmenter(seed), num_parallel_calls=1)  # the model needs the other core
    return ds.prefetch(2)


def _balanced_accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(labels, logits.argmax(axis=1)))


def _make_progress(
    model: Any,
    val_images: np.ndarray,
    val_meta: np.ndarray | None,
    val_labels: np.ndarray,
    phase: str,
    state: dict[str, Any],
) -> Any:
    """A callback that logs each epoch and keeps the weights of the best validation epoch."""
    import keras

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            self.started = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            logits = predict_logits(model, val_images, val_meta)
            bacc = _balanced_accuracy(logits, val_labels)
            val_loss = float(-np.log(evaluate.softmax(logits)[np.arange(len(val_labels)), val_labels] + 1e-12).mean())
            better = bacc > state["best"]
            if better:
                state.update(best=bacc, weights=model.get_weights(), where=f"{phase} epoch {epoch + 1}")
            logger.info(
                "%s epoch %d: loss %.4f, val loss %.4f, val balanced accuracy %.4f%s (%.0fs)",
                phase,
                epoch + 1,
                (logs or {}).get("loss", float("nan")),
                val_loss,
                bacc,
                "  *best*" if better else "",
                time.monotonic() - self.started,
            )

    return Progress()


def _code_revision() -> str:
    """The git commit the training code came from ("+dirty" if training/ had local edits)."""
    import subprocess

    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "training"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def model_card(
    *,
    args: argparse.Namespace,
    backbone: Backbone,
    rows: list[SplitRow],
    best_epoch: str,
    weights: dict[int, float],
    wall_seconds: float,
) -> ModelCard:
    """The JSON card that travels with the model (read by the engine and the web app).

    `training.export.update_card` adds the calibration, serving files and metrics.
    """
    weights_path = args.weights_dir / backbone.weights_file if backbone.weights_file else None
    return {
        "name": "Skinsite HAM10000 lesion classifier",
        # A new default per day: analyses are keyed on the version, so two models must never share one.
        "version": args.version or f"ham10000-{backbone.short_name}-{datetime.now(UTC):%Y%m%d}",
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "classes": list(CLASSES),
        "class_names": CLASS_LABELS,
        "malignant_classes": list(MALIGNANT_CLASSES),
        "malignant_probability": "sum of the akiec, bcc and mel probabilities",
        "input_size": args.image_size,
        "input": {
            "shape": [args.image_size, args.image_size, 3],
            "dtype": "float32",
            "range": "RGB 0..255 (the model scales to -1..1 itself)",
        },
        "metadata_input": {
            "function": "training.contract.encode_metadata",
            "shape": [METADATA_SIZE],
            "description": METADATA_DESCRIPTION,
            "training_dropout": METADATA_DROPOUT,
        }
        if args.metadata
        else None,
        "preprocessing": {
            "function": "training.contract.prepare_image",
            "version": PREPROCESSING_VERSION,
            "description": describe(args.image_size),
        },
        "output": "softmax probabilities over `classes`, temperature scaling already applied",
        "backbone": {
            "architecture": "MobileNetV2 (keras.applications), include_top=False, average pooling",
            "alpha": backbone.alpha,
            "weights": backbone.weights_file or "random initialisation",
            "weights_sha256": file_sha256(weights_path) if weights_path else None,
            "initialisation": "ImageNet weights, kept because they beat random initialisation on validation "
            "(training/README.md, 'Pretrained or from scratch')"
            if weights_path
            else "random (a baseline)",
            "weights_source": "Keras Applications ImageNet weights (Apache-2.0), offline copy; see WEIGHTS.md"
            if weights_path
            else None,
            "colour_constancy": "Shades of Gray, p=6, inside the model" if args.colour_constancy else None,
            "head": "pooled features + dense 32 (relu) of the metadata, dropout 0.3, dense 7 (logits)"
            if args.metadata
            else "dropout 0.3 + dense 7 (logits)",
        },
        "training": {
            "data": "HAM10000 (10,015 dermoscopy images, 200x150 px copies)",
            "split_file": str(Path(args.split_file).resolve().relative_to(REPO_ROOT))
            if Path(args.split_file).resolve().is_relative_to(REPO_ROOT)
            else str(args.split_file),
            "split_sha256": file_sha256(args.split_file),
            "split_unit": "lesion_id (70/15/15 of lesions, stratified by class)",
            "images_per_split": {k: sum(v.values()) for k, v in split_summary(rows).items()},
            "images_per_split_and_class": split_summary(rows),
            "seed": args.seed,
            "head_epochs": args.head_epochs,
            "fine_tune_epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": f"Adam; head lr {args.head_lr}, fine-tune lr {args.lr} with cosine decay",
            "class_weights": {CLASSES[i]: round(w, 4) for i, w in weights.items()},
            "class_weight_power": args.class_weight_power,
            "augmentation": AUGMENTATION,
            "selected_epoch": best_epoch,
            "wall_time_seconds": round(wall_seconds),
            "command": "python -m training.train " + shlex.join(sys.argv[1:]),
            "code_revision": args.code_revision,
        },
        "intended_use": (
            "Skinsite shows these probabilities to help people follow their own skin lesions over time. "
            "The model informs, it does not diagnose: it was trained on dermoscopy images of pigmented "
            "lesions, not phone photos, and any worrying or changing lesion needs a physician."
        ),
        "licence": (
            "Trained on HAM10000: Tschandl P., Rosendahl C., Kittler H., Sci. Data 5, 180161 (2018), "
            "doi:10.1038/sdata.2018.161, CC BY-NC-SA 4.0. The model is a derivative: non-commercial use "
            "only, attribute the authors, share alike."
        ),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The training CLI's arguments: the recipe (`sources` or `ham10000`), then the recipe's own."""
    parser = argparse.ArgumentParser(description="Train and export Skinsite's lesion classifier.")
    recipes = parser.add_subparsers(dest="recipe", required=True, metavar="{sources,ham10000}")
    train_sources.add_arguments(
        recipes.add_parser("sources", help="HAM10000 and the external sets: the served recipe (make train)")
    )
    p = recipes.add_parser("ham10000", help="HAM10000 only: the recipe of the earlier versions")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="HAM10000 folder (metadata.csv, images/)")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "inference" / "model", help="export folder")
    p.add_argument("--epochs", type=int, default=20, help="fine-tuning epochs of the whole network (0: head only)")
    p.add_argument("--head-epochs", type=int, default=2, help="epochs training only the head on a frozen backbone")
    p.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE, help="square input side in pixels")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--backbone", choices=sorted(BACKBONES), default="mobilenetv2_050")
    p.add_argument("--weights-dir", type=Path, default=DEFAULT_WEIGHTS_DIR, help="offline ImageNet .h5 files")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--head-lr", type=float, default=1e-3)
    p.add_argument(
        "--lr", type=float, default=1.5e-4, help="peak fine-tuning learning rate (3e-4 trains worse, 5e-4 diverges)"
    )
    p.add_argument(
        "--metadata",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="age, sex and body site as a second input of the CNN, trained end to end (lost on validation)",
    )
    p.add_argument(
        "--colour-constancy",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Shades-of-Gray colour constancy (p=6) as the model's first layer",
    )
    p.add_argument(
        "--fusion",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="age, sex and body site joined after the image-only CNN by a layer fitted on validation "
        "(replaces the temperature; --no-fusion: temperature scaling only)",
    )
    p.add_argument(
        "--tta",
        type=int,
        default=TTA_VIEWS,
        choices=(1, 2, 4, 8),
        help="dihedral views averaged per photo when calibrating, scoring and serving",
    )
    p.add_argument("--class-weight-power", type=float, default=1.0, help="1 = balanced classes, 0 = none")
    p.add_argument("--version", default=None, help="model version string (default ham10000-<backbone>-<date>)")
    p.add_argument("--split-file", type=Path, default=DEFAULT_SPLIT_FILE)
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="prepared-image cache")
    p.add_argument("--report-dir", type=Path, default=REPO_ROOT / "reports", help="evaluation report folder")
    p.add_argument("--no-report", action="store_true", help="skip writing the evaluation report")
    args = parser.parse_args(argv)
    if args.recipe == "ham10000" and args.metadata and args.fusion:
        p.error("--metadata (in the CNN) and --fusion (after it) are alternatives: add --no-fusion")
    return args


def main(argv: list[str] | None = None) -> int:
    """Train, calibrate, export and evaluate with the recipe `argv` names; returns the process exit code."""
    args = parse_args(argv)
    if args.recipe == "sources":
        return train_sources.run(args, argv)
    args.code_revision = _code_revision()  # now: the files may change while a long run trains
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.monotonic()

    import keras

    keras.utils.set_random_seed(args.seed)
    backbone = BACKBONES[args.backbone]

    rows = load_or_create_split(args.data, args.split_file, seed=args.seed)
    for split, per_class in split_summary(rows).items():
        logger.info("%s: %d images %s", split, sum(per_class.values()), per_class)
    images = load_images(args.data, [r.image_id for r in rows], args.image_size, args.cache_dir)
    labels = labels_of(rows)
    which = np.array([r.split for r in rows])
    x_train, y_train = images[which == "train"], labels[which == "train"]
    x_val, y_val = images[which == "val"], labels[which == "val"]
    x_test, y_test = images[which == "test"], labels[which == "test"]
    meta = metadata_vectors(args.data, [r.image_id for r in rows]) if args.metadata else None
    m_train, m_val, m_test = (
        (None, None, None) if meta is None else (meta[which == p] for p in ("train", "val", "test"))
    )
    logger.info("Images ready after %.0fs", time.monotonic() - started)

    weights = class_weights(y_train, args.class_weight_power)
    logger.info("Class weights: %s", {CLASSES[i]: round(w, 3) for i, w in weights.items()})
    model, base = build_model(
        backbone, args.image_size, args.weights_dir, metadata=args.metadata, colour_constancy=args.colour_constancy
    )
    dataset = train_dataset(x_train, m_train, y_train, args.batch_size, args.seed)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    state: dict = {"best": -1.0, "weights": None, "where": ""}

    if backbone.weights_file is not None and args.head_epochs > 0:
        base.trainable = False
        model.compile(optimizer=keras.optimizers.Adam(args.head_lr), loss=loss)
        logger.info("Phase 1: head only, %d epochs", args.head_epochs)
        model.fit(
            dataset,
            epochs=args.head_epochs,
            class_weight=weights,
            verbose=2,
            callbacks=[_make_progress(model, x_val, m_val, y_val, "head", state)],
        )
    if args.epochs > 0:
        base.trainable = True
        # From scratch there are no statistics to keep: BatchNorm learns them as usual.
        for layer in base.layers if backbone.weights_file is not None else []:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False  # keep ImageNet statistics and their affine terms
        steps = args.epochs * int(np.ceil(len(x_train) / args.batch_size))
        schedule = keras.optimizers.schedules.CosineDecay(
            args.lr * 0.1, steps, warmup_target=args.lr, warmup_steps=min(200, steps // 10)
        )
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss)
        logger.info("Phase 2: fine-tuning the whole network, %d epochs", args.epochs)
        model.fit(
            dataset,
            epochs=args.epochs,
            class_weight=weights,
            verbose=2,
            callbacks=[_make_progress(model, x_val, m_val, y_val, "fine-tune", state)],
        )
    if state["weights"] is None:
        raise SystemExit("no epochs were run: give --head-epochs or --epochs")
    model.set_weights(state["weights"])
    logger.info("Keeping %s (val balanced accuracy %.4f)", state["where"], state["best"])

    if args.fusion:  # the fusion layer needs every split's metadata, even for an image-only CNN
        meta = metadata_vectors(args.data, [r.image_id for r in rows])
        m_val, m_test = meta[which == "val"], meta[which == "test"]
    result = export_and_score(model, (x_val, m_val, y_val), (x_test, m_test, y_test), args.tta, args.out, args.fusion)
    model_path = args.out / "model.keras"
    wall = time.monotonic() - started

    card = model_card(
        args=args, backbone=backbone, rows=rows, best_epoch=state["where"], weights=weights, wall_seconds=wall
    )
    update_card(card, result, args.tta, args.out, {"val": y_val, "test": y_test})
    write_card(args.out, card)
    logger.info(
        "Wrote %s (%d bytes) and model_card.json, version %s", model_path, model_path.stat().st_size, card["version"]
    )
    if not args.no_report:
        write_report(result, y_test, card["version"], args.split_file, args.report_dir)
        logger.info("Wrote the evaluation report to %s", args.report_dir)
    logger.info("Test: %s", json.dumps(card["metrics"]["test"]))
    logger.info("Done in %.0fs", wall)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
