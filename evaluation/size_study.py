"""How well Skinsite measures a lesion in millimetres: `python -m evaluation.size_study` (`make size`).

1. Synthetic photos of known size (evaluation.size_scenes): real lesion photos (HAM10000, PAD-UFES-20)
   on real skin, with a coin, an ID-1 card or a millimetre ruler at a random distance (pixels per mm),
   rotation, camera tilt up to 20 degrees, blur, exposure and JPEG quality. For each: was the reference
   found, the long diameter's error (a) with the true outline (the scale's own error, perspective
   included) and (b) with the outline the app finds (segmentation on a crop round the lesion), and
   whether the stated uncertainty covered the truth (1 and 2 sd).
2. Repeat photos of unchanged lesions: two scenes of the same lesion (other reference, placement and
   camera), both measured by the app; the long diameter's difference gives the growth threshold
   (`long_diameter_growth_mm` in measurement/thresholds.json) and the outline's own noise.
3. Real photos without a reference (HAM10000, PAD-UFES-20, PH2, ISIC 2017): how often one is "found".
4. Real HAM10000 lesions with two photos that both show a ruler: do their diameters in mm agree?

Writes reports/size.md and reports/size.json; data from --data (default ../shared/data), never committed.
Fixed seed; a few hundred scenes in a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from evaluation.size_scenes import METALS, SceneSpec, build_scene
from measurement.scale import COINS, find_scale
from measurement.segmentation import segment_lesion
from measurement.size import OUTLINE_RELATIVE_SD, feret, lesion_size
from measurement.thresholds import THRESHOLDS_FILE

KINDS = ("coin", "card", "ruler")
DEFAULT_COIN_MM = COINS["eur_1"][1]  # the coin a patient chose, passed for every photo (as the app does)
SCENE_SIZE = (1600, 1200)
CROP_DIAMETERS = 2.2
THRESHOLDS_KEY = "long_diameter_growth_mm"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}  # the app's outline is found on a crop this many lesion diameters wide


# ---------------------------------------------------------------- data


def lesion_sources(data: Path, limit: int, rng: np.random.Generator) -> list[Path]:
    """Real lesion photos: HAM10000 (dermoscopy) and PAD-UFES-20 (phone), shuffled."""
    ham = sorted((data / "ham10000_320" / "images").glob("*.jpg"))
    pad = _images(data / "external" / "pad_ufes20" / "images")
    chosen = [ham[i] for i in rng.permutation(len(ham))[: limit * 2 // 3]]
    chosen += [pad[i] for i in rng.permutation(len(pad))[: limit - len(chosen)]]
    return [chosen[i] for i in rng.permutation(len(chosen))]


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def _load(path: Path, *, need_outline: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    photo = np.asarray(Image.open(path).convert("RGB"))
    found = segment_lesion(photo)
    if need_outline and not found.ok:
        return None
    return photo, found.mask


def _first_outlined(paths: list[str]) -> tuple[Path, tuple[np.ndarray, np.ndarray]] | None:
    """The first of the candidate lesion photos the app can outline."""
    for path in paths:
        loaded = _load(Path(path))
        if loaded is not None:
            return Path(path), loaded
    return None


# ---------------------------------------------------------------- one scene


def sample_spec(kind: str, rng: np.random.Generator, seed: int) -> SceneSpec:
    width, height = SCENE_SIZE
    coin_key = list(COINS)[int(rng.integers(len(COINS)))]
    coin_mm = COINS[coin_key][1]
    if kind == "coin":
        mm_per_pixel = coin_mm / (rng.uniform(0.1, 0.3) * height)
    elif kind == "card":
        mm_per_pixel = 85.60 / (rng.uniform(0.35, 0.62) * width)
    else:
        mm_per_pixel = float(np.exp(rng.uniform(math.log(0.02), math.log(0.1))))
    lesion_mm = max(rng.uniform(2.5, 14.0), 40 * mm_per_pixel)
    lesion_mm = min(lesion_mm, 0.25 * height * mm_per_pixel)
    colour = (245, 245, 240) if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(40, 230, 3))
    return SceneSpec(
        kind=kind,
        mm_per_pixel=float(mm_per_pixel),
        lesion_mm=float(lesion_mm),
        width=width,
        height=height,
        tilt_deg=float(rng.uniform(0, 20)),
        tilt_axis_deg=float(rng.uniform(0, 180)),
        rotation_deg=float(rng.uniform(0, 360)),
        blur=float(rng.uniform(0, 1.5)),
        exposure=float(rng.uniform(0.75, 1.25)),
        jpeg_quality=int(rng.integers(60, 96)),
        coin_mm=coin_mm,
        metal=list(METALS)[int(rng.integers(len(METALS)))],
        card_colour=(int(colour[0]), int(colour[1]), int(colour[2])),
        seed=seed,
    )


def app_outline(image: Image.Image, true_outline: np.ndarray) -> list[list[float]] | None:
    """The outline the app finds, on a crop round the lesion (as a patient frames it), in fractions."""
    from inference.measuring import outline_polygon  # the app's own outline encoding (evaluation may import it)

    x0, y0 = true_outline.min(axis=0)
    x1, y1 = true_outline.max(axis=0)
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    half = max(x1 - x0, y1 - y0) * CROP_DIAMETERS / 2.0
    box = (
        max(0, round(cx - half)),
        max(0, round(cy - half)),
        min(image.width, round(cx + half)),
        min(image.height, round(cy + half)),
    )
    crop = image.crop(box)
    found = segment_lesion(crop)
    if not found.ok:
        return None
    outline = outline_polygon(found.mask)
    return [[(x * crop.width + box[0]) / image.width, (y * crop.height + box[1]) / image.height] for x, y in outline]


def measure_scene(job: dict[str, Any]) -> dict[str, Any]:
    """Build one scene and measure it as the app would; the truth beside it."""
    spec = SceneSpec(**job["spec"])
    chosen = _first_outlined(job["lesions"])
    skin = _load(Path(job["skin"]), need_outline=False)
    if chosen is None or skin is None:
        return {"skipped": "no outline on a source photo"}
    lesion_path, lesion = chosen
    scene = build_scene(spec, lesion[0], lesion[1], skin[0], skin[1])
    if spec.kind != "none" and not scene.reference_px:
        return {"skipped": "the reference did not fit"}
    coin_mm = spec.coin_mm if spec.kind == "coin" else DEFAULT_COIN_MM
    started = time.perf_counter()
    scale = find_scale(scene.image, coin_diameter_mm=coin_mm, lesion_mask=scene.lesion_mask)
    seconds = time.perf_counter() - started
    width, height = scene.image.size
    true_outline = (scene.outline_px / np.array([width, height])).tolist()
    truth = spec.lesion_mm
    result: dict[str, Any] = {
        "kind": spec.kind,
        "lesion": lesion_path.name,
        "pair": job.get("pair"),
        "spec": asdict(spec),
        "found": scale.ok,
        "source": scale.source,
        "reason": scale.reason,
        "seconds": round(seconds, 3),
        "true_long_mm": round(truth, 3),
        "feret_px": round(feret(scene.outline_px)[0], 2),
    }
    if scale.ok and scale.mm_per_pixel is not None:
        with_truth = lesion_size(true_outline, width=width, height=height, scale=scale)
        result["scale_error"] = with_truth["long_mm"] / truth - 1.0
        result["scale_relative_sd"] = scale.relative_uncertainty
    outline = app_outline(scene.image, scene.outline_px)
    if outline is not None:
        size = lesion_size(outline, width=width, height=height, scale=scale)
        if size["ok"]:
            result["long_mm"] = size["long_mm"]
            result["long_mm_error"] = size["long_mm_error"]
            result["app_error"] = size["long_mm"] / truth - 1.0
        # the outline's own error at the true size: its Feret against the true outline's
        points = np.asarray(outline) * np.array([width, height])
        result["outline_error"] = feret(points)[0] / feret(scene.outline_px)[0] - 1.0
    return result


# ---------------------------------------------------------------- real photos


def real_photo(job: dict[str, Any]) -> dict[str, Any]:
    path = Path(job["path"])
    photo = Image.open(path).convert("RGB")
    found = segment_lesion(photo)
    started = time.perf_counter()
    scale = find_scale(photo, coin_diameter_mm=job.get("coin_mm"), lesion_mask=found.mask)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "set": job["set"],
        "image": path.name,
        "found": scale.ok,
        "source": scale.source,
        "reason": scale.reason,
        "seconds": round(seconds, 3),
    }
    if scale.ok and found.ok:
        from inference.measuring import outline_polygon

        size = lesion_size(outline_polygon(found.mask), width=photo.width, height=photo.height, scale=scale)
        result["long_mm"] = size["long_mm"]
        result["long_mm_error"] = size["long_mm_error"]
        result["mm_per_pixel"] = scale.mm_per_pixel
    return result


def no_reference_sets(data: Path, per_set: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    sets = {
        "ham10000": sorted((data / "ham10000_320" / "images").glob("*.jpg")),
        "pad_ufes20": _images(data / "external" / "pad_ufes20" / "images"),
        "ph2": _images(data / "external" / "ph2" / "images"),
        "isic2017": _images(data / "external" / "isic2017" / "images"),
    }
    jobs = []
    for name, paths in sets.items():
        for i in rng.permutation(len(paths))[:per_set]:
            jobs.append({"set": name, "path": str(paths[i]), "coin_mm": DEFAULT_COIN_MM})
    return jobs


def ham_pairs(data: Path, limit: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """HAM10000 photos of lesions with two or more photos (rulers searched without a coin)."""
    by_lesion: dict[str, list[str]] = defaultdict(list)
    with open(data / "ham10000" / "metadata.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_lesion[row["lesion_id"]].append(row["image_id"])
    lesions = sorted(k for k, v in by_lesion.items() if len(v) >= 2)
    jobs = []
    for i in rng.permutation(len(lesions))[:limit]:
        for image_id in by_lesion[lesions[i]]:
            path = data / "ham10000_320" / "images" / f"{image_id}.jpg"
            if path.exists():
                jobs.append({"set": "ham_pairs", "path": str(path), "lesion_id": lesions[i], "coin_mm": None})
    return jobs


# ---------------------------------------------------------------- summary


def _quantile(values: list[float], q: float) -> float | None:
    return float(np.quantile(values, q)) if values else None


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    found = [r for r in rows if r["found"]]
    scale_errors = [abs(r["scale_error"]) for r in found if "scale_error" in r]
    app = [r for r in found if "app_error" in r]
    app_errors = [abs(r["app_error"]) for r in app]
    within_1 = [abs(r["scale_error"]) <= r["scale_relative_sd"] for r in found if "scale_error" in r]
    within_2 = [abs(r["scale_error"]) <= 2 * r["scale_relative_sd"] for r in found if "scale_error" in r]
    app_1 = [abs(r["long_mm"] - r["true_long_mm"]) <= r["long_mm_error"] for r in app]
    app_2 = [abs(r["long_mm"] - r["true_long_mm"]) <= 2 * r["long_mm_error"] for r in app]
    wrong_kind = [r for r in found if r["source"] != r["kind"]]
    return {
        "scenes": n,
        "found": len(found),
        "found_share": round(len(found) / n, 4) if n else None,
        "found_other_kind": len(wrong_kind),
        "reasons": _count(r["reason"] for r in rows if not r["found"]),
        "scale_only": {
            "median_abs_relative_error": _round(_quantile(scale_errors, 0.5)),
            "p95_abs_relative_error": _round(_quantile(scale_errors, 0.95)),
            "within_1sd": _round(float(np.mean(within_1)) if within_1 else None),
            "within_2sd": _round(float(np.mean(within_2)) if within_2 else None),
        },
        "app": {
            "outlined": len(app),
            "median_abs_relative_error": _round(_quantile(app_errors, 0.5)),
            "p95_abs_relative_error": _round(_quantile(app_errors, 0.95)),
            "within_1sd": _round(float(np.mean(app_1)) if app_1 else None),
            "within_2sd": _round(float(np.mean(app_2)) if app_2 else None),
        },
        "seconds_median": _round(_quantile([r["seconds"] for r in rows], 0.5)),
    }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[str(value)] += 1
    return dict(sorted(counts.items()))


def growth_threshold(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """The growth (mm) that unchanged repeat pairs exceed at most 5% of the time (both orders counted)."""
    signed = [b - a for a, b in pairs] + [a - b for a, b in pairs]
    absolute = [abs(b - a) for a, b in pairs]
    return {
        "pairs": len(pairs),
        "growth_mm_p95": _round(_quantile(signed, 0.95), 3),
        "abs_difference_median_mm": _round(_quantile(absolute, 0.5), 3),
        "abs_difference_p95_mm": _round(_quantile(absolute, 0.95), 3),
        "relative_difference_sd": _round(float(np.std([math.log(b / a) for a, b in pairs])) if pairs else None, 4),
    }


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared data folder")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--thresholds", type=Path, default=THRESHOLDS_FILE)
    parser.add_argument("--scenes", type=int, default=240, help="single scenes (a third of each kind)")
    parser.add_argument("--pairs", type=int, default=100, help="repeat pairs of unchanged lesions")
    parser.add_argument("--real", type=int, default=150, help="real photos without a reference, per set")
    parser.add_argument("--ham-lesions", type=int, default=600, help="HAM10000 lesions with 2+ photos searched")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--render-only", action="store_true", help="rewrite size.md from size.json, measure nothing")
    args = parser.parse_args(argv)
    if args.render_only:
        report = json.loads((args.out / "size.json").read_text(encoding="utf-8"))
        (args.out / "size.md").write_text(render_markdown(report), encoding="utf-8")
        return 0
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()

    sources = lesion_sources(args.data, args.scenes + 3 * args.pairs + 40, rng)
    skins = sorted((args.data / "external" / "pad_ufes20" / "images").glob("*")) + sources[:20]
    jobs: list[dict[str, Any]] = []
    for i in range(args.scenes):
        kind = KINDS[i % len(KINDS)]
        jobs.append(
            {
                "spec": asdict(sample_spec(kind, rng, seed=args.seed * 100_000 + i)),
                "lesions": [str(sources[(i + k) % len(sources)]) for k in range(8)],
                "skin": str(skins[int(rng.integers(len(skins)))]),
            }
        )
    for p in range(args.pairs):  # two photos of one unchanged lesion: other reference, placement, camera
        lesion = [str(sources[(args.scenes + p * 3 + k) % len(sources)]) for k in range(8)]
        first = sample_spec(KINDS[int(rng.integers(3))], rng, seed=args.seed * 100_000 + 50_000 + 2 * p)
        second = sample_spec(KINDS[int(rng.integers(3))], rng, seed=args.seed * 100_000 + 50_001 + 2 * p)
        lesion_mm = max(first.lesion_mm, 40 * max(first.mm_per_pixel, second.mm_per_pixel))
        lesion_mm = min(lesion_mm, 0.25 * SCENE_SIZE[1] * min(first.mm_per_pixel, second.mm_per_pixel))
        skin = str(skins[int(rng.integers(len(skins)))])
        for spec in (first, second):
            spec_dict = asdict(spec) | {"lesion_mm": lesion_mm}
            jobs.append({"spec": spec_dict, "lesions": lesion, "skin": skin, "pair": p})
    real_jobs = no_reference_sets(args.data, args.real, rng)
    pair_jobs = ham_pairs(args.data, args.ham_lesions, rng)

    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        scene_rows = list(pool.map(measure_scene, jobs, chunksize=4))
        real_rows = list(pool.map(real_photo, real_jobs, chunksize=8))
        ham_rows = list(pool.map(real_photo, pair_jobs, chunksize=8))
    for job, row in zip(pair_jobs, ham_rows, strict=True):
        row["lesion_id"] = job["lesion_id"]

    singles = [r for r in scene_rows if "skipped" not in r and r.get("pair") is None]
    skipped = sum(1 for r in scene_rows if "skipped" in r)
    by_kind = {kind: _summary([r for r in singles if r["kind"] == kind]) for kind in KINDS}
    overall = _summary(singles)

    pair_rows: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in scene_rows:
        if "skipped" not in r and r.get("pair") is not None:
            pair_rows[int(r["pair"])].append(r)
    repeat = [
        (a["long_mm"], b["long_mm"])
        for a, b in (v for v in pair_rows.values() if len(v) == 2)
        if "long_mm" in a and "long_mm" in b
    ]
    growth = growth_threshold(repeat)
    outline_errors = [r["outline_error"] for r in singles if "outline_error" in r]
    outline_sd = (
        1.4826 * float(np.median(np.abs(np.array(outline_errors) - np.median(outline_errors))))
        if outline_errors
        else None
    )

    real_by_set = {}
    for name in sorted({r["set"] for r in real_rows}):
        rows = [r for r in real_rows if r["set"] == name]
        hits = [r for r in rows if r["found"] or r["reason"] not in ("no_reference", None)]
        real_by_set[name] = {
            "photos": len(rows),
            "reference_found": sum(1 for r in rows if r["found"]),
            "found_share": round(sum(1 for r in rows if r["found"]) / len(rows), 4),
            "refused_other_reason": sum(1 for r in rows if not r["found"] and r["reason"] != "no_reference"),
            "hits": [{k: r[k] for k in ("image", "source", "reason")} for r in hits],
            "seconds_median": _round(_quantile([r["seconds"] for r in rows], 0.5)),
        }

    # HAM10000 lesions with two photos that both show a ruler
    rulers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ham_rows:
        if r["found"] and r["source"] == "ruler" and r.get("long_mm") is not None:
            rulers[r["lesion_id"]].append(r)
    ham_agreement = []
    for lesion_id, rows in sorted(rulers.items()):
        if len(rows) >= 2:
            a, b = rows[0], rows[1]
            ham_agreement.append(
                {
                    "lesion_id": lesion_id,
                    "images": [a["image"], b["image"]],
                    "long_mm": [a["long_mm"], b["long_mm"]],
                    "abs_difference_mm": round(abs(a["long_mm"] - b["long_mm"]), 3),
                    "combined_sd_mm": round(math.hypot(a["long_mm_error"], b["long_mm_error"]), 3),
                }
            )
    differences = [row["abs_difference_mm"] for row in ham_agreement]
    ham_summary = {
        "lesions_searched": len({r["lesion_id"] for r in ham_rows}),
        "photos_searched": len(ham_rows),
        "photos_with_ruler": sum(1 for r in ham_rows if r["found"] and r["source"] == "ruler"),
        "photos_with_other_reference": sum(1 for r in ham_rows if r["found"] and r["source"] != "ruler"),
        "lesions_with_two_ruler_photos": len(ham_agreement),
        "abs_difference_median_mm": _round(_quantile(differences, 0.5), 3),
        "abs_difference_p90_mm": _round(_quantile(differences, 0.9), 3),
        "within_2_combined_sd": _round(
            float(np.mean([r["abs_difference_mm"] <= 2 * r["combined_sd_mm"] for r in ham_agreement]))
            if ham_agreement
            else None
        ),
        "pairs": ham_agreement,
    }

    real_all = list(real_rows)
    false_share = sum(1 for r in real_all if r["found"]) / max(1, len(real_all))
    report = {
        "study": "python -m evaluation.size_study",
        "seed": args.seed,
        "scene_size": list(SCENE_SIZE),
        "scenes": len(singles),
        "skipped_scenes": skipped,
        "overall": overall,
        "by_kind": by_kind,
        "targets": {
            "found_share_min": 0.95,
            "false_detection_max": 0.02,
            "median_error_max": 0.05,
            "p95_error_max": 0.12,
        },
        "false_detections": {"photos": len(real_all), "found_share": round(false_share, 4), "by_set": real_by_set},
        "repeat_pairs": growth,
        "outline_relative_sd": _round(outline_sd),
        "ham10000_rulers": ham_summary,
        "outline_relative_sd_used": OUTLINE_RELATIVE_SD["long"],
        "seconds": round(time.perf_counter() - started, 1),
        "speed": speed(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "size.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "size.md").write_text(render_markdown(report), encoding="utf-8")
    write_scene_rows(args.out / "size_scenes.csv", [r for r in scene_rows if "skipped" not in r])
    if growth["growth_mm_p95"] is not None:
        thresholds = json.loads(args.thresholds.read_text(encoding="utf-8"))
        thresholds[THRESHOLDS_KEY] = growth["growth_mm_p95"]
        thresholds["size_provenance"] = {
            "study": "python -m evaluation.size_study",
            "seed": args.seed,
            "repeat_pairs": growth["pairs"],
            "rule": "95th percentile of the long diameter's growth over unchanged repeat pairs (both orders)",
            "abs_difference_median_mm": growth["abs_difference_median_mm"],
        }
        args.thresholds.write_text(json.dumps(thresholds, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("overall", "repeat_pairs", "outline_relative_sd")}, indent=2))
    return 0


SCENE_COLUMNS = ("kind", "pair", "lesion", "found", "source", "reason", "scale_error", "scale_relative_sd", "app_error")
SPEC_COLUMNS = ("mm_per_pixel", "lesion_mm", "tilt_deg", "rotation_deg", "blur", "exposure", "jpeg_quality", "metal")


def write_scene_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """One line per measured scene, to find what the worst scenes have in common."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*SCENE_COLUMNS, *SPEC_COLUMNS])
        for row in rows:
            values = [row.get(c) for c in SCENE_COLUMNS] + [row["spec"].get(c) for c in SPEC_COLUMNS]
            writer.writerow(["" if v is None else round(v, 5) if isinstance(v, float) else v for v in values])


def speed() -> dict[str, Any]:
    """find_scale's time on the committed 600 x 450 test photos and on a 12 MP phone JPEG (as make bench)."""
    from evaluation import bench

    photos = [path.read_bytes() for path in sorted(bench.TESTDATA.glob("*.jpg"))]
    return dict(bench.find_scale_times(photos, bench._phone_jpeg(), rounds=6))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def render_markdown(report: dict[str, Any]) -> str:
    overall, kinds = report["overall"], report["by_kind"]
    lines = [
        "# Size in millimetres: measured accuracy",
        "",
        f"`{report['study']}` (`make size`), seed {report['seed']}, {report['seconds']:.0f} s. "
        "Every figure below comes from reports/size.json, written by that run.",
        "",
        "## Synthetic photos of known size",
        "",
        f"{report['scenes']} scenes ({report['scene_size'][0]}x{report['scene_size'][1]} px): a real lesion photo "
        "(HAM10000 or PAD-UFES-20, its outline from the app's segmentation) scaled to a chosen long diameter and "
        "laid on real skin, with a coin, an ID-1 card or a ruler drawn at a random distance, rotation, camera tilt "
        "(0-20 degrees, pinhole camera), blur, exposure and JPEG quality (evaluation/size_scenes.py). The whole "
        "reference lies inside the frame as the tilted camera sees it, as the /learn/ page asks. "
        f"{report['skipped_scenes']} scenes were skipped (the reference did not fit, or a source photo had no "
        "outline).",
        "",
        "| reference | scenes | found | median abs error (true outline) | 95th pct | within 1 sd | within 2 sd "
        "| median abs error (app's outline) | 95th pct | within 1 sd | within 2 sd |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in [*kinds.items(), ("all", overall)]:
        s, a = row["scale_only"], row["app"]
        lines.append(
            f"| {name} | {row['scenes']} | {_pct(row['found_share'])} | {_pct(s['median_abs_relative_error'])} | "
            f"{_pct(s['p95_abs_relative_error'])} | {_pct(s['within_1sd'])} | {_pct(s['within_2sd'])} | "
            f"{_pct(a['median_abs_relative_error'])} | {_pct(a['p95_abs_relative_error'])} | {_pct(a['within_1sd'])} | "
            f"{_pct(a['within_2sd'])} |"
        )
    t = report["targets"]
    s = overall["scale_only"]
    lines += [
        "",
        '"True outline": the long diameter of the pasted lesion\'s true outline times the scale found, against the '
        "diameter set: the scale's own error, the perspective between the reference and the lesion included. "
        "\"App's outline\": the outline the app's segmentation finds on a crop round the lesion, as stored, "
        "through `measurement.size.lesion_size`; its sd includes the outline's noise. Nominal coverage: 68% "
        "within 1 sd, 95% within 2 sd.",
        "",
        "Targets (issue 22): reference found in at least "
        f"{t['found_share_min']:.0%} of scenes: **{_pct(overall['found_share'])}**; median error at most "
        f"{t['median_error_max']:.0%}: **{_pct(s['median_abs_relative_error'])}**; 95th percentile at most "
        f"{t['p95_error_max']:.0%}: **{_pct(s['p95_abs_relative_error'])}** (true outline; the app's outline in the "
        "table). Reasons when not found: "
        + ", ".join(f"{k} {v}" for k, v in overall["reasons"].items())
        + f'. Scenes where another kind of reference was "found": {overall["found_other_kind"]}. '
        f"Median time of find_scale on a scene: {overall['seconds_median']} s.",
        "",
        "## Photos without a reference",
        "",
        "Real photos searched with a 1 euro coin chosen (as the app passes the patient's coin):",
        "",
        "| set | photos | a reference found | refused for another reason | median seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in report["false_detections"]["by_set"].items():
        lines.append(
            f"| {name} | {row['photos']} | {row['reference_found']} ({_pct(row['found_share'])}) | "
            f"{row['refused_other_reason']} | {row['seconds_median']} |"
        )
    lines += [
        "",
        f"All sets: **{_pct(report['false_detections']['found_share'])}** (target at most "
        f"{t['false_detection_max']:.0%}). Some HAM10000 photos do carry a ruler: see the hits listed in "
        "reports/size.json and the section below.",
        "",
        "## Repeat photos of unchanged lesions: the growth threshold",
        "",
    ]
    g = report["repeat_pairs"]
    lines += [
        f"{g['pairs']} pairs of scenes of the same lesion (other reference, placement and camera), both measured with "
        f"the app's outline: median absolute difference {g['abs_difference_median_mm']} mm, 95th percentile "
        f"{g['abs_difference_p95_mm']} mm (relative sd {g['relative_difference_sd']}). The growth exceeded by 5% of "
        f"the pairs (both orders): **{g['growth_mm_p95']} mm**, written to measurement/thresholds.json as "
        "`long_diameter_growth_mm`: detect_changes calls a growth of the long diameter beyond it a change.",
        "",
        f"The outline's own relative noise (1.4826 x MAD of its long diameter against the true outline's): "
        f"{report['outline_relative_sd']}.",
        "",
        "## Real HAM10000 lesions photographed twice with a ruler",
        "",
    ]
    h = report["ham10000_rulers"]
    lines += [
        f"{h['photos_searched']} photos of {h['lesions_searched']} lesions with two or more photos (320 px copies) "
        f"searched for a ruler: {h['photos_with_ruler']} show one (by the detector; "
        f"{h['photos_with_other_reference']} other references). Lesions with two ruler photos: "
        f"{h['lesions_with_two_ruler_photos']}; their long diameters differ by a median of "
        f"{h['abs_difference_median_mm']} mm (90th percentile {h['abs_difference_p90_mm']} mm); within 2 combined sd: "
        f"{_pct(h['within_2_combined_sd'])}.",
        "",
        "## Speed",
        "",
    ]
    if report.get("speed"):
        sp = report["speed"]
        lines += [
            f"find_scale (coin, card and ruler search) per photo, p50 / p95: committed 600 x 450 test photos "
            f"{sp['test_photos']['p50_ms']:.0f} / {sp['test_photos']['p95_ms']:.0f} ms; a 12 MP phone JPEG "
            f"(4032 x 3024) {sp['phone_12mp']['p50_ms']:.0f} / {sp['phone_12mp']['p95_ms']:.0f} ms,"
            " on this machine's 2 shared cores (also in `make bench`). The scenes' median above was taken with "
            "two study workers running at once.",
            "",
        ]
    fd = report["false_detections"]["by_set"]
    other = sum(row["refused_other_reason"] for row in fd.values())
    photos = sum(row["photos"] for row in fd.values())
    lines += [
        "## Limits",
        "",
        f'- On the real photos without a reference, {other} of {photos} were refused as "coin over the lesion" '
        "or another reason: no scale was given, but the patient would read a message about a coin that is not "
        "there (a round, sharp-edged lesion read as a coin that the lesion's outline overlaps).",
        f"- {report['skipped_scenes']} scenes were skipped (the reference did not fit beside the lesion, or no "
        "source photo could be outlined); "
        f"the growth threshold rests on {report['repeat_pairs']['pairs']} repeat pairs only: a rough first figure.",
        f"- The app's-outline sd above uses the outline noise in measurement/size.py at the time of the run "
        f"(long diameter {report.get('outline_relative_sd_used', 'n/a')}); this run measured "
        f"{report['outline_relative_sd']}.",
        f"- Held out: the detector was revised on the missed and worst scenes of seeds 0 and 1, and the "
        f"uncertainty floors (measurement.scale.FLOOR) chosen on seed 1; this report is seed {report['seed']}"
        + (", which no choice saw." if report["seed"] not in (0, 1) else ", which they saw: not a held-out figure."),
        "- The 320 px HAM10000 copies are small: a ruler's millimetre ticks there are a few pixels apart, at the "
        'limit of the detector, so "no ruler found" there does not prove that none is in the photo.',
        "- The scenes' references are drawn, not photographed: the detector was tuned on the same renderer, so the "
        "found share may be higher than on real photos of coins and cards. Check on photos of known size.",
        "- The scale is one number for the photo. With the camera tilted, the scale changes across the photo; "
        "a reference next to the lesion keeps that error small (the /learn/ page asks for it).",
        "- A ruler with half-millimetre ticks would read as 0.5 mm per period (a factor of 2); inch rulers are not "
        "recognised.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
