"""The served runtime: load an exported model folder as its card says and turn a prepared batch into scores.

An exported folder holds `model.keras` (0..255 RGB in, calibrated softmax probabilities out; the source
of truth), `model.tflite` (the same model converted, which is what runs: several times faster on a
CPU, see `make bench`) and `model_card.json`. `ServedModel.load` checks that the Keras model maps the
inputs the card describes to the outputs it describes, then serves the runtime the card's `serving`
entry names (TFLite through LiteRT, or Keras). `ServedModel.run` scores every photo of a batch in the
card's number of dihedral views and combines them: the probabilities in logit space
(`training.contract.combine_views`), the photo-type and feature-check columns as plain means.

This sits in training, not in `inference`, because fitting the feature checks' limits
(`training.feature_checks`) must measure exactly what the worker serves; `inference.engine.Classifier`
builds the patient-facing prediction on top of it. TensorFlow/Keras is imported lazily inside `load`,
so importing this module stays cheap.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
from PIL import Image

from training import contract
from training.contract import CLASSES, METADATA_SIZE, CardError, ModelCard, combine_views, prepare_batch, view_inputs

MODEL_FILE = "model.keras"
RUNTIMES = ("tflite", "keras")
PHOTO_TYPE_SIZE = 2  # the photo-type input: [given, clinical]
INPUT_NAMES = ("image", "metadata", "photo_type")  # the exported model's inputs, in order

# One call of the served model: the image batch, or the list of its inputs, to its `(n, columns)` output.
Served = Callable[[np.ndarray | list[np.ndarray]], np.ndarray]


class ModelUnavailable(RuntimeError):
    """The model folder, its card or its weights are missing or unusable."""


@dataclass(frozen=True)
class Scores:
    """Raw outputs for a batch: `(n, 7)` probabilities and `(n,)` clinical probabilities (NaN: no detector),
    feature distances and no-lesion probabilities (NaN: no feature checks), each the mean over the views."""

    probabilities: np.ndarray
    clinical_probability: np.ndarray
    feature_distance: np.ndarray
    no_lesion_probability: np.ndarray


def read_card(model_dir: Path) -> ModelCard:
    """The model's checked card (`training.contract.read_card`); raises ModelUnavailable with the reason."""
    try:
        return contract.read_card(model_dir)
    except CardError as exc:
        raise ModelUnavailable(str(exc)) from None


class _TFLite:
    """The TFLite interpreter behind the same call as a Keras model's `predict_on_batch`."""

    def __init__(self, path: Path) -> None:
        # LiteRT is TensorFlow Lite's supported runtime; tf.lite.Interpreter (deprecated, same
        # kernels and results) serves where LiteRT has no wheel, e.g. Windows.
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # tf.lite's deprecation notice
            self.interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 1)
        self.runner = self.interpreter.get_signature_runner()
        self.input_names: list[str] = sorted(self.runner.get_input_details())

    def __call__(self, inputs: np.ndarray | list[np.ndarray]) -> np.ndarray:
        inputs = inputs if isinstance(inputs, list) else [inputs]
        named = dict(zip(INPUT_NAMES[: len(inputs)], inputs, strict=True))
        if set(named) != set(self.input_names):
            raise ModelUnavailable(f"the TFLite model takes {self.input_names}, not {sorted(named)}")
        (output,) = self.runner(**named).values()
        return np.asarray(output)


class ServedModel:
    """A loaded model and its card, as the worker serves it. Create with `ServedModel.load`."""

    def __init__(
        self, model: Any, card: ModelCard, model_dir: Path, runtime: str = "keras", served: Served | None = None
    ) -> None:
        self.model = model  # the Keras model (source of truth; Grad-CAM runs on it)
        self.card = card
        self.version: str = str(card["version"])
        self.input_size: int = int(card["input_size"])
        self.model_dir = Path(model_dir)
        self.uses_metadata = bool(card.get("metadata_input"))
        self.views = int(card.get("test_time_augmentation", 1))
        self.detects_photo_type = bool(card.get("photo_type"))
        self.feature_checks: dict[str, Any] | None = card.get("feature_checks") or None
        self.runtime = runtime
        self._served: Served = served if served is not None else (lambda inputs: model.predict_on_batch(inputs))
        # Neither Keras nor TFLite documents thread safety; a worker thread pool must not interleave calls.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: Path, runtime: str | None = None) -> Self:
        """Load the model folder (imports TensorFlow).

        `runtime` is "tflite" or "keras"; by default the card's `serving` entry decides, and
        the Keras model is served when the card names no TFLite file.
        """
        model_dir = Path(model_dir)
        card = read_card(model_dir)
        model_path = model_dir / MODEL_FILE
        if not model_path.is_file():
            raise ModelUnavailable(f"no model file at {model_path}")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep worker logs free of TF start-up noise
        import keras

        import training.layers  # noqa: F401 - registers the custom layers a model file may hold

        try:
            model = keras.saving.load_model(model_path, compile=False)
        except Exception as exc:  # Keras raises many types for a corrupt or incompatible file
            raise ModelUnavailable(f"could not load {model_path}: {exc}") from exc
        expected_in: Any = (None, card["input_size"], card["input_size"], 3)
        if card.get("metadata_input"):
            expected_in = [expected_in, (None, METADATA_SIZE)]
        if card.get("photo_type"):
            expected_in = [*expected_in, (None, PHOTO_TYPE_SIZE)]
        expected_out = (
            None,
            len(CLASSES) + (1 if card.get("photo_type") else 0) + (2 if card.get("feature_checks") else 0),
        )
        found_in = [tuple(s) for s in model.input_shape] if isinstance(model.input_shape, list) else model.input_shape
        if tuple(found_in) != tuple(expected_in) or tuple(model.output_shape) != expected_out:
            raise ModelUnavailable(
                f"{model_path} maps {model.input_shape} to {model.output_shape}, "
                f"the card says {expected_in} to {expected_out}"
            )
        serving = card.get("serving") or {}
        runtime = runtime or serving.get("runtime") or "keras"
        if runtime not in RUNTIMES:
            raise ModelUnavailable(f"unknown runtime {runtime!r}; use one of {', '.join(RUNTIMES)}")
        served = None
        if runtime == "tflite":
            tflite_path = model_dir / serving.get("file", "model.tflite")
            if not tflite_path.is_file():
                raise ModelUnavailable(f"no TFLite file at {tflite_path}")
            try:
                served = _TFLite(tflite_path)
            except Exception as exc:  # a corrupt flatbuffer raises ValueError or RuntimeError
                raise ModelUnavailable(f"could not load {tflite_path}: {exc}") from exc
            expected_names = list(INPUT_NAMES[: len(expected_in) if isinstance(expected_in, list) else 1])
            if served.input_names != expected_names:
                raise ModelUnavailable(f"{tflite_path} takes {served.input_names}, the card says {expected_names}")
        return cls(model, card, model_dir, runtime, served)

    def inputs(self, images: list[Image.Image]) -> np.ndarray:
        """The float32 image batch the model sees for `images` (the shared training preprocessing)."""
        return prepare_batch(images, self.input_size)

    def run(
        self, batch: np.ndarray, metadata: np.ndarray | None = None, photo_type: np.ndarray | None = None
    ) -> Scores:
        """The scores of a prepared batch, combined over the card's views.

        `metadata` is the `(n, METADATA_SIZE)` metadata batch and `photo_type` the `(n, PHOTO_TYPE_SIZE)`
        photo-type batch (`[given, clinical]`); either missing is all zeros, nothing known, which is
        what the model was taught for a patient who said nothing. Each is passed only to a model whose
        card takes it.
        """
        n = len(batch)
        meta = None
        if self.uses_metadata:
            meta = metadata if metadata is not None else np.zeros((n, METADATA_SIZE), dtype=np.float32)
        inputs = view_inputs(batch, meta, self.views)
        if self.detects_photo_type:
            given = photo_type if photo_type is not None else np.zeros((n, PHOTO_TYPE_SIZE), dtype=np.float32)
            inputs = [*inputs, np.tile(given, (self.views, 1))]
        with self._lock:
            # Keras: predict_on_batch runs the traced graph (~10 ms a batch against ~170 ms for an
            # eager call). TFLite: one interpreter call for all views.
            output = np.asarray(self._served(inputs), dtype=np.float64)
        probabilities = combine_views(output[:, : len(CLASSES)], self.views)
        if self.detects_photo_type:
            clinical = output[:, len(CLASSES)].reshape(self.views, n).mean(axis=0)
        else:
            clinical = np.full(n, np.nan)
        distance = no_lesion = np.full(n, np.nan)
        if self.feature_checks:
            columns = self.feature_checks["columns"]
            distance = output[:, columns["feature_distance"]].reshape(self.views, n).mean(axis=0)
            no_lesion = output[:, columns["no_lesion_probability"]].reshape(self.views, n).mean(axis=0)
        return Scores(probabilities, clinical, distance, no_lesion)
