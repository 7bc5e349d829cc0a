"""Run the lesion classifier: load an exported model folder and turn photos into probabilities.

Pure Python with no Django import. TensorFlow/Keras is imported lazily inside `Classifier.load`,
so importing this module stays cheap and the web process can read it without pulling in
TensorFlow; only the Celery worker (and the CLI) actually load a model.

A model folder holds `model.keras` (0..255 RGB in, temperature-scaled softmax out) and
`model_card.json` (version, classes, input size, ...), both written by `training.train`.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from training.preprocessing import CLASSES, MALIGNANT, prepare_batch

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILE = "model.keras"
CARD_FILE = "model_card.json"
REQUIRED_CARD_KEYS = ("version", "classes", "malignant_classes", "input_size")


class ModelUnavailable(RuntimeError):
    """The model folder, its card or its weights are missing or unusable."""


@dataclass(frozen=True)
class Prediction:
    """The classifier's output for one image."""

    probabilities: dict[str, float]  # all 7 classes, sums to 1
    predicted_class: str
    malignant_probability: float  # akiec + bcc + mel
    model_version: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the same fields."""
        return {
            "probabilities": dict(self.probabilities),
            "predicted_class": self.predicted_class,
            "malignant_probability": self.malignant_probability,
            "model_version": self.model_version,
        }


def read_card(model_dir: Path) -> dict:
    """Read and check a model card; raises ModelUnavailable with the reason."""
    path = Path(model_dir) / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelUnavailable(f"no model card at {path}") from None
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"unreadable model card {path}: {exc}") from None
    if not isinstance(card, dict):
        raise ModelUnavailable(f"model card {path} is not a JSON object")
    missing = [key for key in REQUIRED_CARD_KEYS if key not in card]
    if missing:
        raise ModelUnavailable(f"model card {path} lacks {', '.join(missing)}")
    # The web app stores one column per class; a model with other classes cannot be served.
    if tuple(card["classes"]) != CLASSES:
        raise ModelUnavailable(f"model classes {card['classes']} differ from {list(CLASSES)}")
    if tuple(card["malignant_classes"]) != MALIGNANT:
        raise ModelUnavailable(f"model malignant classes {card['malignant_classes']} differ from {list(MALIGNANT)}")
    if not isinstance(card["input_size"], int) or card["input_size"] <= 0:
        raise ModelUnavailable(f"model card {path} has a bad input_size {card['input_size']!r}")
    return card


class Classifier:
    """A loaded model and its card. Create with `Classifier.load` or `get_classifier`."""

    def __init__(self, model: Any, card: dict, model_dir: Path) -> None:
        self.model = model  # a Keras model: float32 (n, size, size, 3) 0..255 in, (n, 7) probabilities out
        self.card = card
        self.version: str = str(card["version"])
        self.input_size: int = int(card["input_size"])
        self.model_dir = Path(model_dir)
        # Keras models are not documented as thread-safe; a worker thread pool must not interleave calls.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: Path) -> Classifier:
        """Load `model.keras` and `model_card.json` from `model_dir` (imports TensorFlow)."""
        model_dir = Path(model_dir)
        card = read_card(model_dir)
        model_path = model_dir / MODEL_FILE
        if not model_path.is_file():
            raise ModelUnavailable(f"no model file at {model_path}")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep worker logs free of TF start-up noise
        import keras

        try:
            model = keras.saving.load_model(model_path, compile=False)
        except Exception as exc:  # Keras raises many types for a corrupt or incompatible file
            raise ModelUnavailable(f"could not load {model_path}: {exc}") from exc
        expected_in = (None, card["input_size"], card["input_size"], 3)
        if tuple(model.input_shape) != expected_in or tuple(model.output_shape) != (None, len(CLASSES)):
            raise ModelUnavailable(
                f"{model_path} maps {model.input_shape} to {model.output_shape}, "
                f"the card says {expected_in} to (None, {len(CLASSES)})"
            )
        return cls(model, card, model_dir)

    def inputs(self, images: list[Image.Image]) -> np.ndarray:
        """The float32 batch the model sees for `images` (the shared training preprocessing)."""
        return prepare_batch(images, self.input_size)

    def predict(self, image: Image.Image) -> Prediction:
        """Probabilities for one Pillow image of any mode and size."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: list[Image.Image]) -> list[Prediction]:
        """Probabilities for several images in one forward pass."""
        if not images:
            return []
        batch = self.inputs(images)
        with self._lock:
            # predict_on_batch runs the traced graph: ~15 ms for one image, against ~170 ms for an
            # eager model(batch) call, whose per-layer Python overhead dominates at batch size 1.
            output = self.model.predict_on_batch(batch)
        probabilities = np.asarray(output, dtype=np.float64)
        return [self._prediction(row) for row in probabilities]

    def _prediction(self, row: np.ndarray) -> Prediction:
        row = np.clip(row, 0.0, None)
        row = row / row.sum()  # float32 softmax sums to 1 only within ~1e-7
        probabilities = {name: float(p) for name, p in zip(CLASSES, row, strict=True)}
        return Prediction(
            probabilities=probabilities,
            predicted_class=CLASSES[int(row.argmax())],
            malignant_probability=float(sum(probabilities[name] for name in MALIGNANT)),
            model_version=self.version,
        )


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
