"""Run the lesion classifier: load an exported model folder and turn photos into probabilities.

Pure Python with no Django import. TensorFlow/Keras is imported lazily inside `Classifier.load`,
so importing this module stays cheap and the web process can read it without pulling in
TensorFlow; only the Celery worker (and the CLI) actually load a model.

A model folder holds `model.keras` (0..255 RGB in, calibrated softmax probabilities out; the source
of truth), `model.tflite` (the same model converted, which is what runs: several times faster on
a CPU, see `make bench`) and `model_card.json` (version, classes, input size, metadata input,
test-time augmentation, ...), all written by `training.train` / `training.export`. Loading it and
running a prepared batch through it is `training.runtime.ServedModel`, which the feature checks'
fitting (`training.feature_checks`) measures too; `Classifier` adds what a patient's photo needs on
top: its context, the prediction, the refusal and the heatmap.

A model with a metadata input takes the patient's age and sex and the lesion's body site as a
second input; any of them may be missing. Every photo is scored in the card's number of
dihedral views (rotations and mirrors) and the views are combined in logit space.

Photo type. A model whose card has a `photo_type` section also tells dermoscopy (through a
dermatoscope, also a phone attachment) from clinical photos (the plain camera): its output has an
eighth column, the probability that the photo is clinical, and it takes a third input, the photo
type when the user gave it (`[1, 1]` clinical, `[1, 0]` dermoscopy, `[0, 0]` detect), which the
scoring uses instead of the detected one. Pass it as `Context(photo_type="clinical")`; every
`Prediction` says which type was used and whether it was detected or given. Older models give
`photo_type=None`.

Feature checks. A model whose card has a `feature_checks` section has two more output columns,
computed on the CNN's pooled features (`training.feature_checks`): the distance from the lesion
photos it learnt from and the probability that the photo shows skin with no lesion. Above the
card's limits the `Prediction` carries a `refusal` (the reason, worded for the patient, from
`inference.quality`) and the callers store "not assessable" instead of the probabilities.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from inference.quality import NO_LESION_VISIBLE, NOT_LESION, Assessment, assess
from training.contract import CLASSES, MALIGNANT_CLASSES, METADATA_SIZE, encode_metadata

# The served runtime lives in training, which fits the feature checks on exactly what is served; the
# worker's callers import these names from here.
from training.runtime import PHOTO_TYPE_SIZE, Scores, ServedModel
from training.runtime import ModelUnavailable as ModelUnavailable
from training.runtime import read_card as read_card

if TYPE_CHECKING:
    from inference.heatmap import Heatmap

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"
PHOTO_TYPES = ("dermoscopy", "clinical")


@dataclass(frozen=True)
class Prediction:
    """The classifier's output for one image."""

    probabilities: dict[str, float]  # all 7 classes, sums to 1
    predicted_class: str
    malignant_probability: float  # akiec + bcc + mel
    model_version: str
    photo_type: str | None = None  # "dermoscopy" / "clinical" as scored; None: the model has no photo type
    photo_type_detected: str | None = None  # what the model saw, even when the user said otherwise
    photo_type_given: bool = False  # True when Context.photo_type overrode the detection
    clinical_probability: float | None = None  # the detector's probability that the photo is clinical
    feature_distance: float | None = None  # distance from the training lesion photos (None: no feature checks)
    no_lesion_probability: float | None = None  # the probability that it shows skin with no lesion
    refusal: str = ""  # why the probabilities should not be shown (the feature checks); empty: they may be

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the same fields."""
        return {
            "probabilities": dict(self.probabilities),
            "predicted_class": self.predicted_class,
            "malignant_probability": self.malignant_probability,
            "model_version": self.model_version,
            "photo_type": self.photo_type,
            "photo_type_detected": self.photo_type_detected,
            "photo_type_given": self.photo_type_given,
            "clinical_probability": self.clinical_probability,
            "feature_distance": self.feature_distance,
            "no_lesion_probability": self.no_lesion_probability,
            "refusal": self.refusal,
        }


@dataclass(frozen=True)
class Context:
    """What the model may know besides the photo; every field is optional."""

    age: float | None = None
    sex: str | None = None  # "female" / "male"
    site: str | None = None  # a HAM10000 localization, e.g. "back" (lesions.models.BODY_SITES)
    photo_type: str | None = None  # "dermoscopy" / "clinical" when the user said so; None: detect it

    def __post_init__(self) -> None:
        if self.photo_type not in (None, *PHOTO_TYPES):
            raise ValueError(f"photo_type must be one of {PHOTO_TYPES} or None, got {self.photo_type!r}")

    def vector(self) -> np.ndarray:
        return encode_metadata(self.age, self.sex, self.site)

    def photo_type_vector(self) -> np.ndarray:
        """The model's photo-type input: `[given, clinical]`."""
        if self.photo_type is None:
            return np.zeros(PHOTO_TYPE_SIZE, dtype=np.float32)
        return np.array([1.0, float(self.photo_type == "clinical")], dtype=np.float32)


class Classifier(ServedModel):
    """A loaded model and its card, with what the worker tells a patient: predictions for photos with what
    is known of them, the feature checks' refusal, the heatmap. Create with `Classifier.load` (the served
    runtime, `training.runtime.ServedModel.load`) or `get_classifier`."""

    _explained_model: Any = None  # built on first use by `explained_model`

    def metadata(self, contexts: list[Context | None]) -> np.ndarray:
        """The float32 metadata batch for `contexts` (None: nothing known)."""
        return np.stack([(c or Context()).vector() for c in contexts]).reshape(len(contexts), METADATA_SIZE)

    def predict(self, image: Image.Image, context: Context | None = None) -> Prediction:
        """Probabilities for one Pillow image of any mode and size."""
        return self.predict_batch([image], [context])[0]

    def predict_batch(
        self, images: list[Image.Image], contexts: list[Context | None] | None = None
    ) -> list[Prediction]:
        """Probabilities for several images (with what is known of each) in one forward pass."""
        if not images:
            return []
        contexts = contexts or [None] * len(images)
        scores = self.scores(self.inputs(images), contexts)
        return [self._prediction(scores, index, context) for index, context in enumerate(contexts)]

    def probabilities(self, batch: np.ndarray, contexts: list[Context | None] | None = None) -> np.ndarray:
        """`(n, 7)` float64 probabilities for a prepared batch, combined over the card's views."""
        return self.scores(batch, contexts).probabilities

    def scores(self, batch: np.ndarray, contexts: list[Context | None] | None = None) -> Scores:
        """Probabilities and photo-type probabilities for a prepared batch, combined over the card's views."""
        contexts = contexts or [None] * len(batch)
        metadata = self.metadata(contexts) if self.uses_metadata else None
        photo_type = None
        if self.detects_photo_type:
            photo_type = np.stack([(c or Context()).photo_type_vector() for c in contexts]).reshape(len(batch), -1)
        return self.run(batch, metadata, photo_type)

    def assessment(self, image: Image.Image, refusal: str = "") -> Assessment:
        """The whole not-assessable decision for a photo this model scored: the pixel checks of
        `inference.quality` (their distance check only for a model without feature checks), then the
        prediction's `refusal`."""
        return assess(image, distance_check=not self.feature_checks, refusal=refusal)

    def refusal(
        self, feature_distance: float, no_lesion_probability: float, limits: dict[str, Any] | None = None
    ) -> str:
        """The feature checks' reason not to show a photo's probabilities ("" when they may be shown);
        `limits` (`distance_above`, `no_lesion_above`) other than the card's, for evaluating them."""
        if not self.feature_checks:
            return ""
        limits = limits or self.feature_checks
        if feature_distance > limits["distance_above"]:
            return NOT_LESION
        if no_lesion_probability > limits["no_lesion_above"]:
            return NO_LESION_VISIBLE
        return ""

    def heatmap(self, image: Image.Image, context: Context | None = None, class_name: str | None = None) -> Heatmap:
        """The Grad-CAM `inference.heatmap.Heatmap` of one image, computed on the Keras model.

        Pass the served prediction's class: with test-time augmentation the single upright view's
        top class can differ from it, and the heatmap must explain the answer the patient sees.
        """
        from inference.heatmap import gradcam_for

        index = CLASSES.index(class_name) if class_name is not None else None
        if self.detects_photo_type:
            # Multi-source models: explain the CNN's logit for the class (the calibration after it
            # keeps each photo type's ranking), on the image-only chain Grad-CAM can split.
            return gradcam_for(self.explained_model()).compute(self.inputs([image]), class_index=index)
        metadata = self.metadata([context]) if self.uses_metadata else None
        return gradcam_for(self.model).compute(self.inputs([image]), class_index=index, metadata=metadata)

    def explained_model(self) -> Any:
        """Image in, the CNN's 7 logits out (multi-source models): what the heatmap explains."""
        if self._explained_model is None:
            import keras

            features = self.model.get_layer("lesion_features")
            image = keras.Input(features.input_shape[1:], name="image")
            self._explained_model = keras.Model(image, self.model.get_layer("logits")(features(image)))
        return self._explained_model

    def _prediction(self, scores: Scores, index: int, context: Context | None) -> Prediction:
        clinical = float(scores.clinical_probability[index])
        row = np.clip(scores.probabilities[index], 0.0, None)
        row = row / row.sum()  # float32 softmax sums to 1 only within ~1e-7
        probabilities = {name: float(p) for name, p in zip(CLASSES, row, strict=True)}
        detected = given = None
        if self.detects_photo_type:
            detected = "clinical" if clinical >= 0.5 else "dermoscopy"
            given = context.photo_type if context is not None else None
        return Prediction(
            probabilities=probabilities,
            predicted_class=CLASSES[int(row.argmax())],
            malignant_probability=float(sum(probabilities[name] for name in MALIGNANT_CLASSES)),
            model_version=self.version,
            photo_type=given or detected,
            photo_type_detected=detected,
            photo_type_given=given is not None,
            clinical_probability=None if np.isnan(clinical) else clinical,
            **self._checked(scores, index),
        )

    def _checked(self, scores: Scores, index: int) -> dict[str, Any]:
        """The feature-check fields of one photo's Prediction (nothing when the model has none)."""
        if not self.feature_checks:
            return {}
        distance = float(scores.feature_distance[index])
        no_lesion = float(scores.no_lesion_probability[index])
        return {
            "feature_distance": distance,
            "no_lesion_probability": no_lesion,
            "refusal": self.refusal(distance, no_lesion),
        }


_classifiers: dict[Path, Classifier] = {}
_classifiers_lock = threading.Lock()


def resolve_model_dir(model_dir: Path | str | None = None) -> Path:
    """`model_dir`, else the MODEL_DIR environment variable, else the committed default model."""
    if model_dir is None:
        model_dir = os.environ.get("MODEL_DIR") or DEFAULT_MODEL_DIR
    return Path(model_dir).expanduser().resolve()


def get_classifier(model_dir: Path | str | None = None) -> Classifier:
    """The classifier for `model_dir`, loaded once per process and then reused.

    A failed load is not cached, so a model installed later is picked up on the next call.
    """
    path = resolve_model_dir(model_dir)
    with _classifiers_lock:
        classifier = _classifiers.get(path)
        if classifier is None:
            classifier = Classifier.load(path)
            _classifiers[path] = classifier
        return classifier
