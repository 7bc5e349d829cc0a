"""The feature checks: fitted on features, built into the served model as two exact output columns."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from training.feature_checks import FeatureChecks, fit_distance, fit_no_lesion, skin_corners


def _checks(rng: np.random.Generator, dims: int = 16, components: int = 4) -> FeatureChecks:
    lesions = rng.normal(size=(300, dims)) @ rng.normal(size=(dims, dims)) + 3.0
    sources = np.array(["a", "b", "c"] * 100)
    mean, basis, inverse_variance, inverse_residual = fit_distance(lesions, sources, components)
    return FeatureChecks(mean, basis, inverse_variance, inverse_residual, rng.normal(size=dims), 0.3, 1.0)


def test_the_distance_is_small_for_lesion_like_features_and_large_far_away():
    rng = np.random.default_rng(0)
    cov = rng.normal(size=(16, 16))
    lesions = rng.normal(size=(400, 16)) @ cov + 3.0
    sources = np.array(["a", "b"] * 200)
    mean, basis, inverse_variance, inverse_residual = fit_distance(lesions, sources, 4)
    checks = FeatureChecks(mean, basis, inverse_variance, inverse_residual, np.zeros(16), 0.0, 1.0)
    near = checks.outputs(rng.normal(size=(200, 16)) @ cov + 3.0)[:, 0]
    far = checks.outputs(rng.normal(size=(200, 16)) @ cov + 3.0 + 8.0 * rng.normal(size=16))[:, 0]
    # With all components kept the distance is the Mahalanobis distance: about sqrt(dims) inside.
    assert np.median(near) == pytest.approx(4.0, rel=0.3)
    assert np.percentile(near, 99) < np.percentile(far, 1)


def test_every_source_weighs_the_same_in_the_mean():
    big = np.zeros((900, 2))
    small = np.full((100, 2), 10.0)
    mean, *_ = fit_distance(np.concatenate([big, small]), np.array(["big"] * 900 + ["small"] * 100), 1)
    np.testing.assert_allclose(mean, [5.0, 5.0])


def test_the_skin_regression_separates_skin_from_lesions_and_reports_every_c_tried():
    rng = np.random.default_rng(1)
    direction = rng.normal(size=32)
    lesions = rng.normal(size=(300, 32)) + direction
    skin = rng.normal(size=(100, 32)) - direction
    kernel, bias, c, losses = fit_no_lesion(
        lesions,
        np.array(["a", "b", "c"] * 100),
        np.array([f"l{i // 3}" for i in range(300)]),
        skin,
        np.array([f"s{i // 4}" for i in range(100)]),
        c_grid=(0.01, 1.0),
    )
    assert set(losses) == {0.01, 1.0} and c == min(losses, key=losses.get)
    checks = FeatureChecks(np.zeros(32), np.zeros((32, 1)), np.ones(1), 1.0, kernel, bias, c)
    assert checks.outputs(skin)[:, 1].mean() > 0.8 > 0.2 > checks.outputs(lesions)[:, 1].mean()


def test_skin_corners_are_four_squares_a_third_of_the_short_side(tmp_path):
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (600, 450), (200, 150, 120)).save(path)
    corners = skin_corners(path)
    assert [c.size for c in corners] == [(150, 150)] * 4


def test_the_keras_layer_computes_what_the_fitted_checks_compute():
    keras = pytest.importorskip("keras")
    from training.layers import LesionFeatureChecks

    rng = np.random.default_rng(2)
    checks = _checks(rng)
    layer = LesionFeatureChecks(16, 4)
    inputs = keras.Input((16,))
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights(checks.layer_weights())
    features = (rng.normal(size=(20, 16)) + 3.0).astype(np.float32)
    np.testing.assert_allclose(model.predict_on_batch(features), checks.outputs(features), rtol=1e-4, atol=1e-4)


def _served(keras, tmp_path, rng):
    """A tiny served model as `exported_model` builds it (8 pooled features)."""
    from training.multisource import PhotoTypeDetector, RankCalibration, exported_model

    image = keras.Input((32, 32, 3), name="image")
    x = keras.layers.Conv2D(8, 3, activation="relu")(keras.layers.Rescaling(1 / 255)(image))
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(7, name="logits")(keras.layers.Dropout(0.3, name="head_dropout")(pooled))
    cnn = keras.Model(image, logits, name="lesion_classifier")
    detector = PhotoTypeDetector(rng.normal(0, 1, (8, 1)).astype(np.float32), np.array([0.1], dtype=np.float32))
    calibration = RankCalibration(0.9, rng.normal(0, 0.3, 7).astype(np.float32), 0.95, -1.5, 1.7)
    exported_model(cnn, detector, calibration.fusion(), calibration).save(tmp_path / "served.keras")
    return keras.saving.load_model(tmp_path / "served.keras", compile=False)


def test_the_checks_become_two_more_columns_of_the_served_model_and_change_nothing_else(tmp_path):
    keras = pytest.importorskip("keras")
    import training.layers  # noqa: F401 - registers the custom layers for loading
    from training.feature_checks import attach

    rng = np.random.default_rng(3)
    served = _served(keras, tmp_path, rng)
    checks = _checks(rng, dims=8, components=3)
    attach(served, checks).save(tmp_path / "checked.keras")
    checked = keras.saving.load_model(tmp_path / "checked.keras", compile=False)

    images = rng.integers(0, 256, (6, 32, 32, 3)).astype(np.float32)
    inputs = [images, np.zeros((6, checked.inputs[1].shape[1]), np.float32), np.zeros((6, 2), np.float32)]
    before, after = served.predict_on_batch(inputs), checked.predict_on_batch(inputs)
    assert after.shape == (6, 10)
    np.testing.assert_allclose(after[:, :8], before, atol=1e-6)
    features = checked.get_layer("lesion_features").predict_on_batch(images)
    np.testing.assert_allclose(after[:, 8:], checks.outputs(features), rtol=1e-4, atol=1e-4)
    # Rewired without checks: the model as it was (how a model that has checks is refitted).
    np.testing.assert_allclose(attach(checked, None).predict_on_batch(inputs), before, atol=1e-6)


def test_a_cnn_taken_from_a_served_model_stays_one_level_deep_round_after_round(tmp_path):
    keras = pytest.importorskip("keras")
    from training.multisource import PhotoTypeDetector, RankCalibration, exported_model
    from training.train_sources import cnn_of

    rng = np.random.default_rng(4)
    served = _served(keras, tmp_path, rng)
    images = rng.integers(0, 256, (4, 32, 32, 3)).astype(np.float32)
    expected = served.get_layer("logits")(served.get_layer("lesion_features")(images))
    detector = PhotoTypeDetector(np.zeros((8, 1), np.float32), np.zeros(1, np.float32))
    calibration = RankCalibration(1.0, np.zeros(7, np.float32), 1.0, 0.0, 0.0)
    for _ in range(3):  # --init-from, export, --init-from again ...
        cnn = cnn_of(served)
        assert not any(isinstance(layer, keras.Model) for layer in cnn.layers)
        np.testing.assert_allclose(cnn.predict_on_batch(images), np.asarray(expected), atol=1e-5)
        served = exported_model(cnn, detector, calibration.fusion(), calibration)
