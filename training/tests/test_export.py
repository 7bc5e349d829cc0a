"""Exporting a trained classifier: calibrated Keras file without optimizer state, and its TFLite twin."""

import io
import zipfile

import h5py
import keras
import numpy as np
import pytest

from training import evaluate
from training.contract import METADATA_SIZE, encode_metadata
from training.export import calibrate_and_export, export_model, export_tflite, predict_logits


def _tiny_classifier(metadata: bool):
    """A small stand-in for the MobileNetV2 classifier, with the same layer names and inputs."""
    image = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="mobilenetv2_scaling")(image)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    inputs = image
    if metadata:
        meta = keras.Input((METADATA_SIZE,), name="metadata")
        x = keras.layers.Concatenate(name="fusion")(
            [x, keras.layers.Dense(4, activation="relu", name="metadata_dense")(meta)]
        )
        inputs = [image, meta]
    logits = keras.layers.Dense(7, name="logits")(x)
    model = keras.Model(inputs, logits, name="lesion_classifier")
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _data(n: int, metadata: bool, seed: int):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 255, (n, 16, 16, 3), dtype=np.uint8)
    meta = np.stack([encode_metadata(40 + i, "male", "back") for i in range(n)]) if metadata else None
    return images, meta, rng.integers(0, 7, n)


@pytest.mark.parametrize("metadata", [False, True])
def test_the_export_is_calibrated_and_the_tflite_file_agrees(tmp_path, metadata):
    model = _tiny_classifier(metadata)
    images, meta, labels = _data(24, metadata, 0)
    model.fit([images.astype("float32"), meta] if metadata else images.astype("float32"), labels, epochs=1, verbose=0)

    temperature, val_probs, test_probs = calibrate_and_export(
        model, (images, meta, labels), _data(8, metadata, 1), views=8, out_dir=tmp_path
    )
    assert 0.05 <= temperature <= 20
    # The reloaded file gives softmax(mean of the 8 views' logits / T).
    expected = evaluate.softmax(predict_logits(model, images, meta, views=8) / temperature)
    np.testing.assert_allclose(val_probs, expected, atol=1e-4)
    assert test_probs.shape == (8, 7)

    # No optimizer state in the file: it would triple the size of the committed model.
    with zipfile.ZipFile(tmp_path / "model.keras") as archive:
        weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        stored: list[str] = []
        weights.visit(stored.append)
    assert stored and not [name for name in stored if "optimizer" in name]
    reloaded = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    assert getattr(reloaded.get_layer("lesion_classifier"), "optimizer", None) is None

    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(tmp_path / "model.tflite")).get_signature_runner()
    batch = images[:3].astype(np.float32)
    named = {"image": batch} if meta is None else {"image": batch, "metadata": meta[:3]}
    (served,) = runner(**named).values()
    truth = reloaded.predict_on_batch(list(named.values()) if metadata else batch)
    np.testing.assert_allclose(served, truth, atol=1e-5)


def test_export_tflite_replaces_the_file_atomically(tmp_path):
    model = _tiny_classifier(False)
    path = export_model(model, 1.0, tmp_path)
    first = export_tflite(keras.saving.load_model(path, compile=False), tmp_path)
    assert first.name == "model.tflite" and first.stat().st_size > 0
    assert not list(tmp_path.glob("*.tmp"))


def test_a_float16_tflite_file_is_smaller_and_gives_the_same_probabilities(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    image = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(64, 3, activation="relu")(keras.layers.Rescaling(1 / 255.0)(image))
    x = keras.layers.Conv2D(64, 3, activation="relu")(x)
    probabilities = keras.layers.Softmax()(keras.layers.Dense(7)(keras.layers.GlobalAveragePooling2D()(x)))
    model = keras.Model(image, probabilities)
    batch = np.random.default_rng(0).integers(0, 255, (1, 32, 32, 3)).astype(np.float32)
    outputs = {}
    for name, float16 in (("f32", False), ("f16", True)):
        (tmp_path / name).mkdir()
        path = export_tflite(model, tmp_path / name, float16=float16)
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
        interpreter.invoke()
        outputs[name] = (path.stat().st_size, interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
    assert outputs["f16"][0] < 0.6 * outputs["f32"][0]
    np.testing.assert_allclose(outputs["f16"][1], outputs["f32"][1], atol=5e-3)
    np.testing.assert_allclose(outputs["f32"][1], model.predict(batch, verbose=0), atol=1e-5)


def test_the_fusion_layer_is_fitted_on_validation_and_served_as_one_model(tmp_path):
    from inference.heatmap import GradCam
    from training.export import export_and_score
    from training.fusion import fit_fusion

    model = _tiny_classifier(False)
    images, meta, labels = _data(70, True, 2)
    labels = np.arange(70) % 7  # every class present, as on the validation split
    result = export_and_score(model, (images, meta, labels), _data(9, True, 3), views=8, out_dir=tmp_path, fusion=True)

    assert result["calibration"]["method"] == "fusion" and "temperature" not in result
    cv = result["calibration"]["cross_validated_on_validation"]
    assert set(cv) == {"image_only", "with_metadata"} and 0 <= cv["with_metadata"]["balanced_accuracy"] <= 1
    # The file reproduces the regression fitted on the 8-view mean logits, for every view count.
    fusion = fit_fusion(predict_logits(model, images, None, 8), meta, labels)
    np.testing.assert_allclose(result["val"], fusion.probabilities(predict_logits(model, images, None, 8), meta), 1e-4)
    np.testing.assert_allclose(result["val_raw"], evaluate.softmax(predict_logits(model, images, None, 8)), 1e-6)

    reloaded = keras.saving.load_model(tmp_path / "model.keras", compile=False)
    assert [t.name for t in reloaded.inputs] == ["image", "metadata"]
    # Metadata changes the answer; the heatmap still explains the image.
    nothing_known = np.zeros_like(meta)
    with_meta = evaluate.predict_arrays(reloaded, images, meta)
    assert not np.allclose(evaluate.predict_arrays(reloaded, images, nothing_known), with_meta)
    cam = GradCam(reloaded).compute(images[:1].astype(np.float32), metadata=meta[:1])
    assert cam.values.ndim == 2 and 0 <= cam.class_index < 7


def test_fusion_needs_an_image_only_model(tmp_path):
    from training.export import export_and_score

    model = _tiny_classifier(True)
    data = _data(14, True, 4)
    with pytest.raises(SystemExit, match="image-only"):
        export_and_score(model, data, data, views=1, out_dir=tmp_path, fusion=True)


def test_colour_constancy_makes_the_illuminant_grey_and_survives_export(tmp_path):
    from training.layers import ShadesOfGray

    rng = np.random.default_rng(5)
    scene = rng.uniform(40, 200, (2, 16, 16, 3)).astype(np.float32)
    tinted = np.clip(scene * np.array([1.3, 1.0, 0.7], dtype=np.float32), 0, 255)  # a warm lamp
    layer = ShadesOfGray()
    out = np.asarray(layer(tinted))
    illuminant = lambda x: (np.mean((x / 255.0) ** 6, axis=(1, 2))) ** (1 / 6)  # noqa: E731
    grey = illuminant(out)
    assert np.allclose(grey, grey.mean(axis=1, keepdims=True), rtol=0.02)  # channels now balanced
    assert np.abs(out - np.asarray(layer(scene))).mean() < np.abs(tinted - scene).mean() / 3  # the tint is gone

    image = keras.Input((16, 16, 3), name="image")
    x = ShadesOfGray(name="colour_constancy")(image)
    x = keras.layers.Conv2D(4, 3)(x)
    model = keras.Model(image, keras.layers.Dense(7, name="logits")(keras.layers.GlobalAveragePooling2D()(x)))
    model._name = "lesion_classifier"
    path = export_model(model, 1.0, tmp_path)
    reloaded = keras.saving.load_model(path, compile=False)
    expected = evaluate.softmax(model.predict_on_batch(tinted))
    np.testing.assert_allclose(reloaded.predict_on_batch(tinted), expected, atol=1e-6)
    export_tflite(reloaded, tmp_path)
    from ai_edge_litert.interpreter import Interpreter

    (served,) = Interpreter(model_path=str(tmp_path / "model.tflite")).get_signature_runner()(image=tinted).values()
    np.testing.assert_allclose(served, reloaded.predict_on_batch(tinted), atol=1e-5)


def test_the_multisource_export_writes_a_servable_model_and_its_card(tmp_path):
    """`export_multisource`, the last step of `python -m training.train sources`, on a tiny CNN and five
    synthetic sources: the folder it writes is served as its card says, in both runtimes."""
    from pathlib import Path

    from training.contract import CLASSES, read_card
    from training.export import export_multisource
    from training.runtime import ServedModel
    from training.sources import SOURCES, Sample

    rng = np.random.default_rng(5)
    image = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(8, 3, activation="relu")(keras.layers.Rescaling(1 / 255)(image))
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    cnn = keras.Model(
        image, keras.layers.Dense(7, name="logits")(keras.layers.Dropout(0.3, name="head_dropout")(pooled))
    )
    samples, images = [], []
    for source in SOURCES:
        for i in range(42):
            split = ("train", "train", "val")[i % 3] if i < 36 else "test"
            samples.append(Sample(source, Path(f"/{source}/{i}.jpg"), CLASSES[i % 7], f"{source}-{i // 2}", split))
            # Phone photos brighter than dermoscopy, so the photo-type detector has something to find.
            images.append(rng.integers(120 if source == "pad_ufes20" else 0, 256, (32, 32, 3), dtype=np.uint8))
    out = tmp_path / "model"

    card = export_multisource(
        cnn, samples, np.stack(images), out_dir=out, version="tiny-sources", views=2, training={}, detector_train_cap=40
    )

    assert read_card(out) == card
    assert (card["version"], card["input_size"], card["test_time_augmentation"]) == ("tiny-sources", 32, 2)
    assert card["serving"]["file"] == "model.tflite" and card["model_file"]["name"] == "model.keras"
    assert card["serving"]["source"].startswith("converted from model.keras (float32, no quantisation)")
    batch = rng.integers(0, 256, (3, 32, 32, 3)).astype(np.float32)
    served = {runtime: ServedModel.load(out, runtime).run(batch) for runtime in ("tflite", "keras")}
    np.testing.assert_allclose(served["tflite"].probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(served["tflite"].probabilities, served["keras"].probabilities, atol=1e-4)
    assert np.isnan(served["tflite"].feature_distance).all()  # no feature checks fitted yet
