"""The not-assessable checks that look through the CNN: fit them, build them into the served model.

    python -m training.feature_checks --model inference/model   # fit, attach, re-export, set the limits

The pixel checks in `inference.quality` (exposure, blank, colour, focus, lesion contrast) cannot
tell a cat or a motorbike in warm light from a mole, nor plain skin with a hair from a faint
lesion. The CNN's own pooled features can. Two checks are fitted on the training part of every
source (never on what `reports/not_assessable.md` scores) and built into the served model as two
more output columns (`training.layers.LesionFeatureChecks`), so the worker pays one small matrix
product per view for them:

- **distance from the lesion photos**: a probabilistic-PCA Mahalanobis distance (the top
  `COMPONENTS` principal components with their variances, the rest as one isotropic residual),
  fitted on up to `PER_SOURCE` training photos of each source, every source weighing the same;
- **skin with no lesion**: a logistic regression on the L2-normalised features, lesion photos of
  every source (each source weighing the same) against plain skin cut from the corners of the
  training-part phone photos (4 per photo), C chosen by grouped cross-validation on those parts.

Each limit is the largest per-source `LIMIT_QUANTILE`th percentile of the served values (mean over
the card's views) on the validation parts (so neither check refuses more than 0.5 % of any source's
validation lesions by itself), raised above the highest value of every malignant training photo of
every source, like the lesion-contrast limit: a refused melanoma is the costlier mistake. Measured
(reports/not_assessable.md): the percentile limits alone refused 95.6 % of the non-lesion set but
more malignant than benign lesions in three sets; the raised limits refuse no malignant lesion in
any set. The limits are written into the model card (`feature_checks`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from PIL import Image

from training.contract import CARD_FILE, CLASSES, open_image, prepare_image, read_card, write_card
from training.data import file_sha256
from training.runtime import ServedModel
from training.sources import SOURCES, Sample, load_samples

logger = logging.getLogger(__name__)

COMPONENTS = 128
PER_SOURCE = 800
LIMIT_QUANTILE = 99.5
C_GRID = (0.1, 1.0, 10.0, 100.0)
SEED = 20261207
CORNER_SIDE = 3  # a corner square is a third of the photo's shorter side (the lesion is in the middle)
CARD_KEY: Final = "feature_checks"


@dataclass(frozen=True)
class FeatureChecks:
    """The fitted weights of `training.layers.LesionFeatureChecks`."""

    mean: np.ndarray  # (d,)
    basis: np.ndarray  # (d, k) principal directions
    inverse_variance: np.ndarray  # (k,)
    inverse_residual_variance: float
    skin_kernel: np.ndarray  # (d,)
    skin_bias: float
    c: float  # the chosen inverse regularisation of the skin regression

    def outputs(self, features: np.ndarray) -> np.ndarray:
        """`(n, 2)`: distance and no-lesion probability, as the layer computes them (float64)."""
        centred = np.asarray(features, dtype=np.float64) - self.mean
        z = centred @ self.basis
        residual = np.maximum((centred**2).sum(axis=1) - (z**2).sum(axis=1), 0.0)
        distance = np.sqrt((z**2 * self.inverse_variance).sum(axis=1) + residual * self.inverse_residual_variance)
        unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
        no_lesion = 1.0 / (1.0 + np.exp(-(unit @ self.skin_kernel + self.skin_bias)))
        return np.stack([distance, no_lesion], axis=1)

    def layer_weights(self) -> list[np.ndarray | np.float32]:
        return [
            self.mean.astype(np.float32),
            self.basis.astype(np.float32),
            self.inverse_variance.astype(np.float32),
            np.float32(self.inverse_residual_variance),
            self.skin_kernel.reshape(-1, 1).astype(np.float32),
            np.array([self.skin_bias], dtype=np.float32),
        ]


def _source_weights(sources: np.ndarray) -> np.ndarray:
    """Weights that give every source the same total (and average 1)."""
    weights = np.zeros(len(sources))
    names = sorted(set(sources))
    for name in names:
        mask = sources == name
        weights[mask] = len(sources) / (len(names) * mask.sum())
    return weights


def fit_distance(
    features: np.ndarray, sources: np.ndarray, components: int = COMPONENTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Mean, principal directions, their inverse variances and the inverse residual variance,
    every source weighing the same."""
    weights = _source_weights(sources)
    mean = np.average(features, axis=0, weights=weights)
    centred = (features - mean) * np.sqrt(weights / weights.sum())[:, None]
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    variances = singular**2
    k = min(components, len(variances) - 1)
    residual_variance = variances[k:].sum() / max(features.shape[1] - k, 1)
    return mean, vt[:k].T, 1.0 / variances[:k], 1.0 / residual_variance


def _unit(features: np.ndarray) -> np.ndarray:
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def fit_no_lesion(
    lesions: np.ndarray,
    lesion_sources: np.ndarray,
    lesion_groups: np.ndarray,
    skin: np.ndarray,
    skin_groups: np.ndarray,
    c_grid: tuple[float, ...] = C_GRID,
) -> tuple[np.ndarray, float, float, dict[float, float]]:
    """Lesion (0) against plain skin (1) on L2-normalised features: kernel, bias, chosen C and the
    grouped 5-fold log loss of every C tried. Both classes weigh the same in total."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import GroupKFold

    x = _unit(np.concatenate([lesions, skin]))
    y = np.r_[np.zeros(len(lesions)), np.ones(len(skin))]
    weights = np.r_[_source_weights(lesion_sources), np.full(len(skin), len(lesions) / len(skin))]
    groups = np.r_[lesion_groups, skin_groups]
    losses = {}
    for c in c_grid:
        predicted = np.zeros(len(y))
        for train, held in GroupKFold(n_splits=5).split(x, y, groups):
            model = LogisticRegression(C=c, max_iter=5000).fit(x[train], y[train], sample_weight=weights[train])
            predicted[held] = model.predict_proba(x[held])[:, 1]
        losses[c] = float(log_loss(y, predicted, sample_weight=weights))
    best = min(losses, key=lambda c: losses[c])
    model = LogisticRegression(C=best, max_iter=5000).fit(x, y, sample_weight=weights)
    return model.coef_[0], float(model.intercept_[0]), best, losses


def skin_corners(path: Path) -> list[Image.Image]:
    """The four corner squares of a phone photo whose lesion is in the middle: skin with no lesion."""
    with Image.open(path) as source:
        image = source.convert("RGB")
    width, height = image.size
    side = min(width, height) // CORNER_SIDE
    corners = [(0, 0), (width - side, 0), (0, height - side), (width - side, height - side)]
    return [image.crop((x, y, x + side, y + side)) for x, y in corners]


def pooled_features(model: Any, images: list[Image.Image], batch_size: int = 64) -> np.ndarray:
    """The served model's pooled CNN features (`lesion_features` layer) of one upright view each."""
    features = model.get_layer("lesion_features")
    size = int(features.input_shape[1])
    out = []
    for start in range(0, len(images), batch_size):
        batch = np.stack([prepare_image(image, size) for image in images[start : start + batch_size]])
        out.append(np.asarray(features.predict_on_batch(batch.astype(np.float32)), dtype=np.float64))
    return np.concatenate(out)


def fit(model: Any, samples: list[Sample], *, per_source: int = PER_SOURCE) -> tuple[FeatureChecks, dict[str, Any]]:
    """Fit both checks on the training parts of `samples` (features from `model`)."""
    rng = np.random.default_rng(SEED)
    size = int(model.get_layer("lesion_features").input_shape[1])
    chosen: list[Sample] = []
    for source in SOURCES:
        pool = [s for s in samples if s.source == source and s.split == "train"]
        picks = sorted(rng.choice(len(pool), size=min(per_source, len(pool)), replace=False))
        chosen += [pool[i] for i in picks]
    logger.info("Pooled features of %d training lesion photos", len(chosen))
    lesions = np.concatenate(
        [
            pooled_features(model, [open_image(s.path, size) for s in chosen[start : start + 256]])
            for start in range(0, len(chosen), 256)
        ]
    )
    sources = np.array([s.source for s in chosen])
    phone = [s for s in samples if s.source == "pad_ufes20" and s.split == "train"]
    corners, corner_groups = [], []
    for s in phone:
        crops = skin_corners(s.path)
        corners += crops
        corner_groups += [f"pad_ufes20/{s.group}"] * len(crops)
    logger.info("Pooled features of %d plain-skin corners of %d training phone photos", len(corners), len(phone))
    skin = pooled_features(model, corners)
    mean, basis, inverse_variance, inverse_residual = fit_distance(lesions, sources)
    kernel, bias, c, losses = fit_no_lesion(
        lesions, sources, np.array([f"{s.source}/{s.group}" for s in chosen]), skin, np.array(corner_groups)
    )
    checks = FeatureChecks(mean, basis, inverse_variance, float(inverse_residual), kernel, bias, c)
    fitted_on = {
        "lesion_photos": {source: int((sources == source).sum()) for source in SOURCES},
        "skin_corners": len(corners),
        "skin_corner_photos": len(phone),
        "skin_c_grouped_log_loss": {str(k): round(v, 4) for k, v in losses.items()},
        "skin_c": c,
    }
    return checks, fitted_on


def served_layers(model: Any) -> dict[str, Any]:
    """The served model's layers by name (`training.multisource.SERVED_LAYERS`), without any checks."""
    from training.multisource import SERVED_LAYERS

    names = {layer.name for layer in model.layers}
    return {name: model.get_layer(name) for name in SERVED_LAYERS if name in names}


def attach(model: Any, checks: FeatureChecks | None) -> Any:
    """The served model rewired with the checks' two columns appended to its output (probabilities
    and clinical probability unchanged); `None`: without checks."""
    from training.layers import LesionFeatureChecks
    from training.multisource import served_graph

    layers = served_layers(model)
    if checks is None:
        return served_graph(layers, model.input_shape[0][1:])
    layer = LesionFeatureChecks(int(checks.mean.shape[0]), int(checks.basis.shape[1]), name="feature_checks")
    layers["feature_checks"] = layer
    served = served_graph(layers, model.input_shape[0][1:])
    layer.set_weights(checks.layer_weights())
    return served


def served_values(served: ServedModel, images: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    """The served distance and no-lesion probability (mean over the card's views) of each image, with
    nothing known of the patient."""
    distance, no_lesion = [np.empty(0)], [np.empty(0)]
    for start in range(0, len(images), 32):
        scores = served.run(served.inputs(images[start : start + 32]))
        distance.append(scores.feature_distance)
        no_lesion.append(scores.no_lesion_probability)
    return np.concatenate(distance), np.concatenate(no_lesion)


def _served_values(served: ServedModel, group: list[Sample]) -> tuple[np.ndarray, np.ndarray]:
    """`served_values` of photos, decoded 256 at a time."""
    parts = [
        served_values(served, [open_image(s.path, served.input_size) for s in group[start : start + 256]])
        for start in range(0, len(group), 256)
    ]
    return np.concatenate([d for d, _ in parts]), np.concatenate([n for _, n in parts])


def set_limits(served: ServedModel, samples: list[Sample]) -> dict[str, Any]:
    """Each limit: the largest per-source LIMIT_QUANTILE of the served values on the validation parts,
    raised where needed above every malignant training photo of every source, so that neither check
    refuses a malignant lesion like those it was fitted on (the lesion-contrast limit follows the same
    rule): a refused melanoma is the costlier mistake."""
    per_source: dict[str, dict[str, float]] = {}
    for source in SOURCES:
        distance, no_lesion = _served_values(served, [s for s in samples if s.source == source and s.split == "val"])
        per_source[source] = {
            "distance": float(np.percentile(distance, LIMIT_QUANTILE)),
            "no_lesion": float(np.percentile(no_lesion, LIMIT_QUANTILE)),
        }
    malignant = [s for s in samples if s.split == "train" and s.malignant]
    distance, no_lesion = _served_values(served, malignant)
    highest = {"distance": float(distance.max()), "no_lesion": float(no_lesion.max())}
    return {
        "distance_above": round(max(highest["distance"], *(v["distance"] for v in per_source.values())), 4),
        "no_lesion_above": round(max(highest["no_lesion"], *(v["no_lesion"] for v in per_source.values())), 4),
        "per_source_validation_quantiles": {k: {n: round(x, 4) for n, x in v.items()} for k, v in per_source.items()},
        "highest_of_malignant_training_photos": {
            "photos": len(malignant),
            **{k: round(v, 4) for k, v in highest.items()},
        },
    }


LIMITS_SET_ON = (
    f"the largest per-source {LIMIT_QUANTILE}th percentile of the served values (mean over the card's views) on "
    "each source's validation part, raised above the highest value of every malignant training photo "
    "(highest_of_malignant_training_photos)"
)


def card_section(fitted_on: dict[str, Any], limits: dict[str, Any], columns: int) -> dict[str, Any]:
    return {
        "columns": {"feature_distance": columns, "no_lesion_probability": columns + 1},
        "layer": "training.layers.LesionFeatureChecks on the pooled CNN features (lesion_features)",
        "distance": f"probabilistic-PCA Mahalanobis distance ({COMPONENTS} components + isotropic residual) from "
        "lesion photos of the training part of every source, each source weighing the same",
        "no_lesion": "logistic regression on L2-normalised pooled features: training lesion photos of every source "
        "(each source weighing the same) against plain skin from the four corners of every training-part "
        "PAD-UFES-20 phone photo; C chosen by grouped 5-fold log loss on those parts",
        "fitted_on": fitted_on,
        "limits_set_on": LIMITS_SET_ON,
        **limits,
        "refuses": "a photo whose distance is above distance_above (does not look like a close-up of a skin lesion) "
        "or whose no-lesion probability is above no_lesion_above (no lesion stands out)",
        "script": "python -m training.feature_checks --model <model dir>",
    }


def extend(model_dir: Path, *, per_source: int = PER_SOURCE, samples: list[Sample] | None = None) -> dict[str, Any]:
    """Fit the checks for the exported model in `model_dir`, build them in, re-export the TFLite file
    the same way (float16 when the card says so), set the limits and write them into the card."""
    import keras

    import training.layers  # noqa: F401 - registers the custom layers
    from training.export import export_tflite

    card_path = model_dir / CARD_FILE
    card = read_card(model_dir)
    model = attach(keras.saving.load_model(model_dir / "model.keras", compile=False), None)  # refit from scratch
    samples = samples if samples is not None else load_samples()
    checks, fitted_on = fit(model, samples, per_source=per_source)
    served = attach(model, checks)

    size = int(card["input_size"])
    probe = np.stack([prepare_image(open_image(s.path, size), size) for s in samples[:8]]).astype(np.float32)
    inputs = [probe, np.zeros((8, served.inputs[1].shape[1]), np.float32), np.zeros((8, 2), np.float32)]
    before, after = np.asarray(model.predict_on_batch(inputs)), np.asarray(served.predict_on_batch(inputs))
    expected = checks.outputs(np.asarray(model.get_layer("lesion_features").predict_on_batch(probe), np.float64))
    if not np.allclose(after[:, : before.shape[1]], before, atol=1e-6) or not np.allclose(
        after[:, before.shape[1] :], expected, rtol=1e-3, atol=1e-3
    ):
        raise SystemExit("the model with the checks does not reproduce the model and the fitted checks")
    served.save(model_dir / "model.keras")
    tflite = export_tflite(served, model_dir, float16="float16" in str(card.get("serving", {}).get("source", "")))

    columns = len(CLASSES) + 1
    card[CARD_KEY] = card_section(fitted_on, {"distance_above": None, "no_lesion_above": None}, columns)
    card["output"] = (
        f"{columns + 2} values: softmax probabilities over `classes` (calibrated on multi-source validation), the "
        "clinical probability, then the feature checks' distance and no-lesion probability (feature_checks)"
    )
    card["serving"].update({"bytes": tflite.stat().st_size, "sha256": file_sha256(tflite)})
    model_file = model_dir / "model.keras"
    card["model_file"].update({"bytes": model_file.stat().st_size, "sha256": file_sha256(model_file)})
    # Written first without limits: the served model that sets them reads the card for its columns.
    write_card(card_path, card)
    return relimit(model_dir, samples)


def relimit(model_dir: Path, samples: list[Sample] | None = None) -> dict[str, Any]:
    """Set the limits of a model's checks (`set_limits`) and write them into its card."""
    card_path = model_dir / CARD_FILE
    card = read_card(model_dir)
    limits = set_limits(ServedModel.load(model_dir), samples if samples is not None else load_samples())
    card[CARD_KEY].update(limits, limits_set_on=LIMITS_SET_ON)
    write_card(card_path, card)
    logger.info("Feature-check limits %s", json.dumps(limits))
    return card[CARD_KEY]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the exported model folder to extend in place")
    parser.add_argument("--per-source", type=int, default=PER_SOURCE, help="training lesion photos per source")
    parser.add_argument("--limits-only", action="store_true", help="keep the fitted checks, set the limits again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.limits_only:
        relimit(args.model)
    else:
        extend(args.model, per_source=args.per_source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
