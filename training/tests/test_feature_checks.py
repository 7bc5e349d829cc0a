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
