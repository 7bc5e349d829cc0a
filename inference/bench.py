"""`make bench`: how fast the worker turns a photo into probabilities, measured, not guessed.

    python -m inference.bench [--rounds 5] [--batch 32] [--no-tflite] [--no-sklesion]

Single-image latency counts what a worker does per photo: decode the JPEG bytes, preprocess
(centre crop, resize) and predict. Also measured: batched throughput, model load time, the
worker's resident memory, the not-assessable checks and the Grad-CAM heatmap (both run once per
analysis), a TFLite conversion of the same model (with its largest difference from Keras), and
the PyPI package `sklesion` as a reference when it is installed. Writes `reports/bench.json`.

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

import numpy as np
from PIL import Image

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


def tflite_predictor(model) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """Convert a Keras model to TFLite in memory: (predict one (1, size, size, 3) batch, flatbuffer bytes)."""
    import tensorflow as tf

    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    # tf.lite.Interpreter is deprecated in favour of ai_edge_litert, which is not installed here.
    interpreter = tf.lite.Interpreter(model_content=flatbuffer, num_threads=os.cpu_count())
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]

    def predict(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)

    return predict, len(flatbuffer)


def _tflite(classifier, photos: list[bytes], rounds: int, batch: np.ndarray) -> dict:
    """Convert the Keras model to TFLite; time it and compare its outputs with Keras."""
    started = time.perf_counter()
    predict, size = tflite_predictor(classifier.model)
    convert_s = time.perf_counter() - started

    def single(data: bytes) -> np.ndarray:
        return predict(classifier.inputs([_decode(data)]))

    difference = max(
        float(np.abs(predict(batch[i : i + 1]) - classifier.model.predict_on_batch(batch[i : i + 1])).max())
        for i in range(len(batch))
    )
    return {
        "single": _summary(_latencies(single, photos, rounds)),
        "convert_s": round(convert_s, 2),
        "size_mb": round(size / 1e6, 2),
        "max_abs_difference_vs_keras": difference,
    }


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


def run(rounds: int = 5, batch_size: int = 32, tflite: bool = True, sklesion: bool = True) -> dict:
    """Measure everything; returns the report that `main` prints and writes."""
    photos = [path.read_bytes() for path in sorted(TESTDATA.glob("*.jpg"))]
    rss_start = _rss_mb()

    started = time.perf_counter()
    from inference.engine import Classifier, resolve_model_dir

    classifier = Classifier.load(resolve_model_dir())  # not the per-process cache: a fresh load
    load_s = time.perf_counter() - started  # includes importing TensorFlow, as in a new worker
    rss_loaded = _rss_mb()

    def single(data: bytes):
        return classifier.predict(_decode(data))

    keras_single = _latencies(single, photos, rounds)

    images = [_decode(data) for data in photos]
    batch = classifier.inputs([images[i % len(images)] for i in range(batch_size)])
    classifier.model.predict_on_batch(batch)
    batch_times = []
    for _ in range(rounds):
        started = time.perf_counter()
        classifier.predict_batch([images[i % len(images)] for i in range(batch_size)])
        batch_times.append(time.perf_counter() - started)
    images_per_s = batch_size / float(np.median(batch_times))

    from inference import heatmap, quality

    gradcam = heatmap.gradcam_for(classifier.model)
    heat = _latencies(
        lambda data: heatmap.overlay_jpeg(img := _decode(data), gradcam.compute(classifier.inputs([img]))),
        photos,
        rounds,
    )
    checks = _latencies(lambda data: quality.assess(_decode(data)), photos, rounds)

    report = {
        "model_version": classifier.version,
        "input_size": classifier.input_size,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "keras": {
            "load_s": round(load_s, 2),
            "single": _summary(keras_single),
            "batch_size": batch_size,
            "batch_images_per_s": round(images_per_s, 1),
        },
        "quality_checks": _summary(checks),
        "heatmap": _summary(heat),
        "rss_mb": {"start": round(rss_start), "model_loaded": round(rss_loaded)},
    }
    if tflite:
        report["tflite"] = _tflite(classifier, photos, rounds, batch[: len(photos)])
    report["rss_mb"]["worker_after_runs"] = round(_rss_mb())
    if sklesion:
        report["sklesion"] = _sklesion(photos, rounds)
        sk = report["sklesion"].get("single")
        if sk:
            report["keras"]["speedup_vs_sklesion_p50"] = round(sk["p50_ms"] / report["keras"]["single"]["p50_ms"], 1)
    report["targets"] = {"p50_ms_at_most": 25, "speedup_vs_sklesion_at_least": 5}
    return report


def table(report: dict) -> str:
    """The report as a small text table."""
    keras, rows = report["keras"], []
    rows.append(
        (
            "Keras: single image p50 / p95 (decode + preprocess + predict)",
            f"{keras['single']['p50_ms']} / {keras['single']['p95_ms']} ms",
        )
    )
    rows.append((f"Keras: batched, {keras['batch_size']} a batch", f"{keras['batch_images_per_s']} images/s"))
    rows.append(("Keras: model load (with the TensorFlow import)", f"{keras['load_s']} s"))
    rows.append(
        (
            "Worker RSS: before / model loaded / after all runs",
            "{start} / {model_loaded} / {worker_after_runs} MB".format(**report["rss_mb"]),
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
    if "tflite" in report:
        t = report["tflite"]
        rows.append(("TFLite: single image p50 / p95", f"{t['single']['p50_ms']} / {t['single']['p95_ms']} ms"))
        rows.append(("TFLite: max |difference| from Keras", f"{t['max_abs_difference_vs_keras']:.2e}"))
    if "sklesion" in report:
        s = report["sklesion"]
        if "single" in s:
            rows.append(("sklesion: single image p50 / p95", f"{s['single']['p50_ms']} / {s['single']['p95_ms']} ms"))
            rows.append(("sklesion: model load", f"{s['load_s']} s"))
            rows.append(("Keras speed-up over sklesion (p50)", f"{keras.get('speedup_vs_sklesion_p50')}x"))
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
    parser.add_argument("--no-tflite", action="store_true", help="skip the TFLite conversion")
    parser.add_argument("--no-sklesion", action="store_true", help="skip the sklesion reference")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "bench.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    report = run(args.rounds, args.batch, tflite=not args.no_tflite, sklesion=not args.no_sklesion)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(table(report))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
