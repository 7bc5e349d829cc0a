"""`make bench`: how fast the worker turns a photo into probabilities, measured, not guessed.

    python -m evaluation.bench [--rounds 5] [--batch 32] [--no-keras] [--no-sklesion]

Single-photo latency counts what a worker does per photo: decode the JPEG bytes, preprocess
(centre crop, resize) and predict, with the model card's test-time augmentation (every view).
Measured for the served runtime (the card's `serving`, TFLite) and for the Keras model it was
converted from, with their largest difference; also batched throughput, model load time, the
worker's resident memory, the not-assessable checks and the Grad-CAM heatmap (both run once per
analysis), and the PyPI package `sklesion` as a reference when it is installed. Writes
`reports/bench.json`.

sklesion (MIT, weights inside its wheel, nothing downloaded at run time) pins TensorFlow 2.17 and
numpy 1.26, so it is not in the requirements; install it beside ours without its pins:
`.venv/bin/pip install --no-deps sklesion==0.2.2 pandas`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from inference.engine import Classifier  # type hints only: the functions below import the engine as they run

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT / "testdata" / "ham10000"


def _rss_mb() -> float:
    """Resident memory of this process now (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _phone_jpeg(seed: int = 0) -> bytes:
    """A 12-megapixel (4032 x 3024) JPEG like a phone's: a lesion photo enlarged, with sensor noise."""
    source = sorted(TESTDATA.glob("*.jpg"))[0]
    with Image.open(source) as image:
        large = image.convert("RGB").resize((4032, 3024), Image.Resampling.BILINEAR)
    noise = np.random.default_rng(seed).normal(0, 6, (3024, 4032, 3))
    pixels = (np.asarray(large, dtype=np.float64) + noise).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _phone_photo(classifier: Classifier, data: bytes, rounds: int) -> dict:
    """One 12 MP phone JPEG as the worker and the CLI handle it: reduced-scale decode, checks, prediction."""
    from training.contract import WORK_MIN, open_image

    size = max(classifier.input_size, WORK_MIN)

    def served(payload: bytes) -> None:
        image = open_image(io.BytesIO(payload), size)
        classifier.assessment(image)  # the worker's pixel checks, before the CNN
        classifier.predict(image)  # its feature checks come with the prediction

    def full_decode(payload: bytes) -> None:
        classifier.predict(_decode(payload))

    # The same steps one at a time, to show where the time goes (the reduced-scale decode still
    # has to entropy-decode all 3 MB of the file; only the inverse DCT shrinks).
    image = open_image(io.BytesIO(data), size)
    steps = {
        "decode_reduced_scale": _summary(_latencies(lambda p: open_image(io.BytesIO(p), size), [data], rounds * 4)),
        "not_assessable_checks": _summary(_latencies(lambda _: classifier.assessment(image), [data], rounds * 4)),
        "predict": _summary(_latencies(lambda _: classifier.predict(image), [data], rounds * 4)),
    }
    return {
        "bytes": len(data),
        "pixels": "4032x3024",
        "decoded_to": "x".join(map(str, image.size)),
        "steps": steps,
        "decode_checks_predict": _summary(_latencies(served, [data], rounds * 4)),
        "full_decode_predict_for_comparison": _summary(_latencies(full_decode, [data], rounds)),
    }


def find_scale_times(photos: list[bytes], phone: bytes, rounds: int) -> dict:
    """measurement.scale.find_scale (coin, card and ruler search, the 1 euro coin chosen) per decoded photo:
    the committed 600 x 450 test photos and a 12 MP phone JPEG. Pure numpy and scikit-image, no model."""
    from measurement.scale import COINS, find_scale

    coin_mm = COINS["eur_1"][1]
    decoded = [_decode(data) for data in photos]
    large = _decode(phone)
    find_scale(decoded[0], coin_diameter_mm=coin_mm)  # imports and first-call costs out of the timing
    small = []
    for _ in range(max(1, rounds // 2)):
        for image in decoded:
            started = time.perf_counter()
            find_scale(image, coin_diameter_mm=coin_mm)
            small.append((time.perf_counter() - started) * 1000)
    big = []
    for _ in range(max(1, rounds // 2)):
        started = time.perf_counter()
        find_scale(large, coin_diameter_mm=coin_mm)
        big.append((time.perf_counter() - started) * 1000)
    return {"test_photos": _summary(small), "phone_12mp": _summary(big)}


def _latencies(run: Callable[[bytes], object], photos: list[bytes], rounds: int) -> list[float]:
    run(photos[0])  # warm-up: graph tracing and caches are not what a patient waits for
    times = []
    for _ in range(rounds):
        for data in photos:
            started = time.perf_counter()
            run(data)
            times.append((time.perf_counter() - started) * 1000)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(float(np.percentile(times, 50)), 2),
        "p95_ms": round(float(np.percentile(times, 95)), 2),
        "n": len(times),
    }


def _runtime(name: str, photos: list[bytes], rounds: int, batch_size: int) -> tuple[dict, Classifier]:
    """Load the model folder with one runtime and time it: (figures, classifier)."""
    from inference.engine import Classifier, resolve_model_dir

    started = time.perf_counter()
    classifier = Classifier.load(resolve_model_dir(), runtime=name)  # not the per-process cache: a fresh load
    load_s = time.perf_counter() - started  # the first load includes importing TensorFlow, as in a new worker
    rss_loaded = _rss_mb()

    single = _latencies(lambda data: classifier.predict(_decode(data)), photos, rounds)
    rss_single = _rss_mb()
    images = [_decode(data) for data in photos]
    batch = [images[i % len(images)] for i in range(batch_size)]
    classifier.predict_batch(batch)
    batch_times = []
    for _ in range(rounds):
        started = time.perf_counter()
        classifier.predict_batch(batch)
        batch_times.append(time.perf_counter() - started)
    figures = {
        "load_s": round(load_s, 2),
        "rss_mb_after_load": round(rss_loaded),
        "rss_mb_after_single_photos": round(rss_single),
        "single": _summary(single),
        "batch_size": batch_size,
        "batch_images_per_s": round(batch_size / float(np.median(batch_times)), 1),
    }
    return figures, classifier


def _sklesion(photos: list[bytes], rounds: int) -> dict:
    """The reference: sklesion's own predict path (Xception + metadata) on the same photos."""
    try:
        started = time.perf_counter()
        from sklesion.model import SkinLesionClassifier

        reference = SkinLesionClassifier()
        load_s = time.perf_counter() - started
    except Exception as exc:  # noqa: BLE001 - not installed, or its pinned TensorFlow/numpy do not load here
        return {"skipped": f"{type(exc).__name__}: {exc}"[:300]}
    props = reference.model_props
    # sklesion's own preprocess() builds the metadata vector with pandas idioms that pandas 3
    # rejects, so the same vector is built here from its properties: one-hot sex and location,
    # age / age_max, age-missing flag.
    meta = np.array(
        [[*props["oh_map"]["sex"]["male"], *props["oh_map"]["loc"]["trunk"], 50.0 / props["age_max"], 0]],
        dtype=np.float32,
    )
    import tensorflow as tf

    def single(data: bytes) -> np.ndarray:
        image = tf.image.resize(tf.image.decode_jpeg(data, channels=3), props["img_shape"])[None]
        return reference.model.predict_on_batch((image, meta))

    try:
        times = _latencies(single, photos, max(1, rounds // 2))
    except Exception as exc:  # noqa: BLE001 - an incompatible reference must not stop the bench
        return {"skipped": f"{type(exc).__name__}: {exc}"[:300], "load_s": round(load_s, 2)}
    return {"single": _summary(times), "load_s": round(load_s, 2)}


def run(rounds: int = 5, batch_size: int = 32, keras: bool = True, sklesion: bool = True) -> dict:
    """Measure everything; returns the report that `main` prints and writes."""
    from inference.engine import read_card, resolve_model_dir

    photos = [path.read_bytes() for path in sorted(TESTDATA.glob("*.jpg"))]
    card = read_card(resolve_model_dir())
    served = (card.get("serving") or {}).get("runtime", "keras")
    rss_start = _rss_mb()
    runtimes: dict[str, dict] = {}
    runtimes[served], classifier = _runtime(served, photos, rounds, batch_size)

    from inference import heatmap

    heat = _latencies(lambda data: heatmap.overlay_jpeg(img := _decode(data), classifier.heatmap(img)), photos, rounds)
    checks = _latencies(lambda data: classifier.assessment(_decode(data)), photos, rounds)
    phone_jpeg = _phone_jpeg()
    phone = _phone_photo(classifier, phone_jpeg, rounds)
    scale_times = find_scale_times(photos, phone_jpeg, rounds)
    if keras and served != "keras":
        runtimes["keras"], reference = _runtime("keras", photos, rounds, batch_size)
        batch = classifier.inputs([_decode(data) for data in photos])
        runtimes[served]["max_abs_difference_vs_keras"] = float(
            np.abs(classifier.probabilities(batch) - reference.probabilities(batch)).max()
        )

    report = {
        "model_version": classifier.version,
        "input_size": classifier.input_size,
        "test_time_augmentation_views": classifier.views,
        "served_runtime": served,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "runtimes": runtimes,
        "quality_checks": _summary(checks),
        "phone_jpeg_12mp": phone,
        "heatmap": _summary(heat),
        "find_scale": scale_times,
        # A worker analyses one photo per task: its memory is the model plus single-photo runs. The
        # batched runs (32 photos x the views in one call) need far larger buffers than a worker does.
        "rss_mb": {
            "start": round(rss_start),
            "model_loaded": runtimes[served]["rss_mb_after_load"],
            "after_single_photos": runtimes[served]["rss_mb_after_single_photos"],
        },
    }
    report["rss_mb"]["after_heatmaps_batches_and_keras"] = round(_rss_mb())
    if sklesion:
        report["sklesion"] = _sklesion(photos, rounds)
        sk = report["sklesion"].get("single")
        if sk:
            report["speedup_vs_sklesion_p50"] = round(sk["p50_ms"] / runtimes[served]["single"]["p50_ms"], 1)
    report["targets"] = {"p50_ms_at_most": 25, "phone_12mp_p50_ms_at_most": 25, "speedup_vs_sklesion_at_least": 5}
    return report


def table(report: dict) -> str:
    """The report as a small text table."""
    rows = []
    views = report["test_time_augmentation_views"]
    for name, figures in report["runtimes"].items():
        label = f"{name}{' (served)' if name == report['served_runtime'] else ''}"
        rows.append(
            (
                f"{label}: one photo, {views} views, p50 / p95 (decode + preprocess + predict)",
                f"{figures['single']['p50_ms']} / {figures['single']['p95_ms']} ms",
            )
        )
        rows.append(
            (f"{label}: batched, {figures['batch_size']} photos a batch", f"{figures['batch_images_per_s']} photos/s")
        )
        rows.append((f"{label}: model load", f"{figures['load_s']} s"))
        if "max_abs_difference_vs_keras" in figures:
            rows.append((f"{label}: max |difference| from Keras", f"{figures['max_abs_difference_vs_keras']:.2e}"))
    phone = report["phone_jpeg_12mp"]
    rows.append(
        (
            "12 MP phone JPEG: reduced-scale decode + checks + predict, p50 / p95",
            f"{phone['decode_checks_predict']['p50_ms']} / {phone['decode_checks_predict']['p95_ms']} ms",
        )
    )
    for step, figures in phone.get("steps", {}).items():
        rows.append((f"  of which {step.replace('_', ' ')}, p50", f"{figures['p50_ms']} ms"))
    rows.append(
        (
            "12 MP phone JPEG: full decode + predict (before)",
            f"{phone['full_decode_predict_for_comparison']['p50_ms']} ms",
        )
    )
    rows.append(
        (
            "RSS: start / model loaded / after single-photo predictions / after everything",
            "{start} / {model_loaded} / {after_single_photos} / {after_heatmaps_batches_and_keras} MB".format(
                **report["rss_mb"]
            ),
        )
    )
    rows.append(
        (
            "Not-assessable checks p50 / p95",
            f"{report['quality_checks']['p50_ms']} / {report['quality_checks']['p95_ms']} ms",
        )
    )
    rows.append(
        (
            "Grad-CAM heatmap + overlay JPEG p50 / p95",
            f"{report['heatmap']['p50_ms']} / {report['heatmap']['p95_ms']} ms",
        )
    )
    if "find_scale" in report:
        found = report["find_scale"]
        rows.append(
            (
                "Size reference search (find_scale): 600 x 450 photo / 12 MP photo, p50",
                f"{found['test_photos']['p50_ms']} / {found['phone_12mp']['p50_ms']} ms",
            )
        )
    if "sklesion" in report:
        s = report["sklesion"]
        if "single" in s:
            rows.append(("sklesion: single image p50 / p95", f"{s['single']['p50_ms']} / {s['single']['p95_ms']} ms"))
            rows.append(("sklesion: model load", f"{s['load_s']} s"))
            rows.append(("Served speed-up over sklesion (p50)", f"{report.get('speedup_vs_sklesion_p50')}x"))
        else:
            rows.append(("sklesion", "skipped: " + s["skipped"][:80]))
    width = max(len(name) for name, _ in rows)
    lines = [f"model {report['model_version']} ({report['input_size']} px), {report['machine']['cpus']} CPUs"]
    lines += [f"{name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the 14 test images")
    parser.add_argument("--batch", type=int, default=32, help="batch size for the throughput figure")
    parser.add_argument("--no-keras", action="store_true", help="time only the served runtime")
    parser.add_argument("--no-sklesion", action="store_true", help="skip the sklesion reference")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "bench.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    report = run(args.rounds, args.batch, keras=not args.no_keras, sklesion=not args.no_sklesion)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(table(report))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
