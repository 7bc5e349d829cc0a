"""The served TFLite file gives the Keras model's probabilities on the committed lesions (within 1e-3,
or 5e-3 when the card says its weights are stored as float16).

`model.keras` is the source of truth; `model.tflite` is converted from it by `training.export`
and is what the worker runs (`make bench` measures both). This keeps them interchangeable: same
images, same metadata, same test-time views, same numbers.
"""

import numpy as np
import pytest
from PIL import Image

from conftest import lesion_image_paths
from inference.engine import Classifier, Context, ModelUnavailable, resolve_model_dir
from training.data import file_sha256


@pytest.fixture(scope="module")
def runtimes() -> dict[str, Classifier]:
    model_dir = resolve_model_dir()
    return {name: Classifier.load(model_dir, runtime=name) for name in ("tflite", "keras")}


def _batch(classifier: Classifier) -> np.ndarray:
    images = []
    for path in lesion_image_paths():
        with Image.open(path) as image:
            images.append(classifier.inputs([image])[0])
    return np.stack(images)


def test_the_card_serves_the_committed_tflite_file():
    model_dir = resolve_model_dir()
    classifier = Classifier.load(model_dir)
    serving = classifier.card["serving"]
    assert classifier.runtime == serving["runtime"] == "tflite"
    assert file_sha256(model_dir / serving["file"]) == serving["sha256"]
    assert classifier.views == serving["test_time_augmentation"] == classifier.card["test_time_augmentation"]


def test_tflite_matches_keras_on_the_committed_lesions(runtimes):
    tflite, keras = runtimes["tflite"], runtimes["keras"]
    tolerance = 5e-3 if "float16" in tflite.card["serving"]["source"] else 1e-3
    batch = _batch(keras)
    contexts = [None, Context(age=60, sex="male", site="back"), Context(site="face"), Context(age=35, sex="female")]
    for context in contexts:
        per_photo = [context] * len(batch)
        served, truth = tflite.probabilities(batch, per_photo), keras.probabilities(batch, per_photo)
        assert served.shape == truth.shape == (len(batch), 7)
        assert np.abs(served - truth).max() < tolerance, context


def test_a_missing_tflite_file_is_a_clear_error(tmp_path):
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(resolve_model_dir(), copy)
    (copy / "model.tflite").unlink()
    with pytest.raises(ModelUnavailable, match="no TFLite file"):
        Classifier.load(copy)
    assert Classifier.load(copy, runtime="keras").runtime == "keras"
    with pytest.raises(ModelUnavailable, match="unknown runtime"):
        Classifier.load(copy, runtime="onnx")


def test_a_tflite_file_that_does_not_match_the_card_is_refused(tmp_path):
    import shutil

    import keras

    from training.export import export_tflite

    copy = tmp_path / "model"
    shutil.copytree(resolve_model_dir(), copy)
    # An image-only TFLite file beside a card (and Keras file) that take metadata and the photo type too.
    image = keras.Input((192, 192, 3), name="image")
    pooled = keras.layers.GlobalAveragePooling2D()(image)
    export_tflite(keras.Model(image, keras.layers.Dense(7, activation="softmax")(pooled)), copy)
    with pytest.raises(
        ModelUnavailable, match=r"takes \['image'\], the card says \['image', 'metadata', 'photo_type'\]"
    ):
        Classifier.load(copy)
    (copy / "model.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(ModelUnavailable, match="could not load"):
        Classifier.load(copy)


def test_without_litert_tensorflows_interpreter_serves_the_same_numbers(runtimes, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # as on Windows, where it has no wheel
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    fallback = Classifier.load(resolve_model_dir())
    assert type(fallback._served.interpreter).__module__.startswith("tensorflow")
    batch = _batch(fallback)
    np.testing.assert_allclose(fallback.probabilities(batch), runtimes["tflite"].probabilities(batch), atol=1e-5)
