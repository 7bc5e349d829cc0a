"""`train_sources` helpers that start a run from a served model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

SERVED = Path(__file__).resolve().parents[2] / "inference" / "model"


def test_a_run_from_a_served_model_keeps_its_input_size_unless_told():
    from training.train_sources import FROM_IMAGENET_SIZE, input_size_of

    card = json.loads((SERVED / "model_card.json").read_text(encoding="utf-8"))
    assert input_size_of(SERVED) == card["input_size"]
    assert input_size_of(None) == FROM_IMAGENET_SIZE


def test_a_served_cnn_moves_to_another_input_size_with_every_weight_and_back():
    pytest.importorskip("keras")
    import training.layers  # noqa: F401 - custom layers in the served model file
    from training.train_sources import at_size, input_size_of, served_cnn

    size = input_size_of(SERVED)
    other = 160 if size != 160 else 192
    cnn = served_cnn(SERVED, size)
    assert cnn.input_shape[1:] == (size, size, 3)
    assert at_size(cnn, size) is cnn
    moved = at_size(cnn, other)
    assert moved.input_shape[1:] == (other, other, 3)
    for before, after in zip(cnn.weights, moved.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(before), np.asarray(after))
    assert np.isfinite(moved.predict_on_batch(np.zeros((1, other, other, 3), np.float32))).all()
    # Back at its own size it is the same network: the same logits for the same photos.
    images = np.random.default_rng(0).integers(0, 256, (2, size, size, 3)).astype(np.float32)
    np.testing.assert_allclose(
        at_size(moved, size).predict_on_batch(images), cnn.predict_on_batch(images), rtol=1e-5, atol=1e-5
    )


def test_the_served_card_describes_the_input_scaling_its_backbone_does():
    from training.contract import describe
    from training.model import backbone_of

    pytest.importorskip("keras")
    import training.layers  # noqa: F401
    from training.train_sources import served_cnn

    card = json.loads((SERVED / "model_card.json").read_text(encoding="utf-8"))
    backbone = backbone_of(served_cnn(SERVED, card["input_size"]))
    assert card["preprocessing"]["description"] == describe(card["input_size"], backbone.input_scaling)
    assert ("(x - 127) / 128" in backbone.input_scaling) == (backbone.family == "efficientnet_lite")


def test_make_train_runs_the_sources_recipe_of_the_one_training_cli():
    """The Makefile's `make train` command line, parsed as `python -m training.train` parses it."""
    from training.train import parse_args

    argv = ["sources", "--init-from", "inference/model", "--out", "inference/model", "--version", "v1"]
    args = parse_args([*argv, "--tflite-float16"])
    assert (args.recipe, args.init_from, args.version) == ("sources", Path("inference/model"), "v1")
    assert args.tflite_float16 and args.feature_checks and args.epochs == 6
    assert parse_args(["ham10000", "--version", "v1"]).recipe == "ham10000"
