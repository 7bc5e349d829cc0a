"""`python -m training.train sources --resume`: a run stopped after each epoch's checkpoint goes on to the
result of an uninterrupted run (a tiny network on tiny synthetic photos)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from training.sources import Sample

SIZE = 24
DX = ("nv", "mel", "bcc", "bkl")


def _data() -> tuple[list[Sample], np.ndarray]:
    rng = np.random.default_rng(7)
    samples, images = [], []
    for i in range(40):
        dx = DX[i % len(DX)]
        split = "train" if i < 28 else "val"
        samples.append(Sample("ham10000", Path(f"/none/{i}.jpg"), dx, f"lesion{i}", split))
        # Malignant photos a little darker, so that there is something to learn.
        base = 90 if dx in ("mel", "bcc") else 150
        images.append(np.clip(rng.normal(base, 40, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8))
    return samples, np.stack(images)


def _network(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    x = keras.Input((SIZE, SIZE, 3))
    h = keras.layers.Rescaling(1 / 255)(x)
    h = keras.layers.Conv2D(4, 3, activation="relu")(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dropout(0.3, name="head_dropout")(h)
    cnn = keras.Model(x, keras.layers.Dense(7, name="logits")(h))
    return cnn, cnn


def _args(work_dir: Path, **changes) -> argparse.Namespace:
    from training.train import parse_args

    args = parse_args(["sources", "--version", "tiny", "--work-dir", str(work_dir), "--epochs", "4"])
    args.image_size, args.batch_size, args.lr, args.seed = SIZE, 8, 1e-2, 3
    for key, value in changes.items():
        setattr(args, key, value)
    return args


def _checkpoint(work_dir: Path) -> tuple[dict, list[np.ndarray]]:
    from training.train_sources import CHECKPOINT_DIR

    state = json.loads((work_dir / CHECKPOINT_DIR / "state.json").read_text(encoding="utf-8"))
    with np.load(work_dir / CHECKPOINT_DIR / "variables.npz") as saved:
        return state, [saved[k] for k in sorted(saved.files)]


def test_two_plus_two_epochs_resumed_equal_four_in_one_go(tmp_path):
    pytest.importorskip("keras")
    from training.train_sources import train_cnn

    samples, images = _data()
    whole, whole_state = train_cnn(_args(tmp_path / "whole"), samples, images, _network(0))

    _, first_state = train_cnn(_args(tmp_path / "parts", stop_after=2), samples, images, _network(0))
    assert first_state["stopped"] and first_state["epochs_done"] == 2
    # A fresh process: another initialisation, which the checkpoint replaces entirely.
    resumed, resumed_state = train_cnn(_args(tmp_path / "parts", resume=True), samples, images, _network(99))

    assert [e["epoch"] for e in resumed_state["epochs"]] == [1, 2, 3, 4]
    assert resumed_state["where"] == whole_state["where"]
    for a, b in zip(whole_state["epochs"], resumed_state["epochs"], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5, abs=1e-6)
        assert a["val_auc"] == pytest.approx(b["val_auc"], abs=1e-6)
    for a, b in zip(whole.get_weights(), resumed.get_weights(), strict=True):  # the kept (best) epoch
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The last epoch's every variable, the optimizer's step and moments included.
    (state_a, last_a), (state_b, last_b) = _checkpoint(tmp_path / "whole"), _checkpoint(tmp_path / "parts")
    assert state_a["epochs_done"] == state_b["epochs_done"] == 4
    for a, b in zip(last_a, last_b, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_resume_refuses_another_runs_checkpoint(tmp_path):
    pytest.importorskip("keras")
    import keras

    from training.train_sources import CHECKPOINT_DIR, run_key, save_checkpoint, train_cnn

    samples, images = _data()
    cnn, _ = _network(0)
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(cnn.trainable_variables)
    state = {"best": 0.5, "where": "epoch 1", "epochs": [], "epochs_done": 1, "run": run_key(_args(tmp_path))}
    save_checkpoint(tmp_path / CHECKPOINT_DIR, cnn, optimizer, state)
    with pytest.raises(SystemExit, match="another run"):
        train_cnn(_args(tmp_path, lr=5e-3, resume=True), samples, images, _network(0))
    with pytest.raises(SystemExit, match="no checkpoint"):
        train_cnn(_args(tmp_path / "empty", resume=True), samples, images, _network(0))
