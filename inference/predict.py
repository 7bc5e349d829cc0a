"""Classify lesion photos from the command line.

    python -m inference.predict --json IMG [IMG ...] [--site back] [--age 55] [--sex female] [--model-dir DIR]

With --json, prints one JSON object per image and line: path, probabilities, predicted_class,
malignant_probability, model_version. Without it, a short readable summary. --site, --age and
--sex (all optional) are what the model may know besides the photo, applied to every image.
Unreadable images
are reported on stderr and make the exit status non-zero; the others are still classified.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from training.preprocessing import LOCALIZATIONS, SEXES

EXIT_BAD_IMAGE = 1
EXIT_NO_MODEL = 3


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()  # decode now, so a truncated file fails here and not mid-batch
        return image.copy()


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m inference.predict", description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="+", type=Path, metavar="IMG", help="image files to classify")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    parser.add_argument("--model-dir", type=Path, default=None, help="model folder (default: MODEL_DIR or bundled)")
    parser.add_argument("--site", choices=LOCALIZATIONS, default=None, help="the lesion's body site")
    parser.add_argument("--age", type=float, default=None, help="the patient's age in years")
    parser.add_argument("--sex", choices=SEXES, default=None)
    args = parser.parse_args(argv)

    opened: list[tuple[Path, Image.Image]] = []
    failed = False
    for path in args.images:
        try:
            opened.append((path, _open(path)))
        except FileNotFoundError:
            print(f"error: {path}: no such file", file=sys.stderr)
            failed = True
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            print(f"error: {path}: not a readable image ({exc})", file=sys.stderr)
            failed = True
    if not opened:
        return EXIT_BAD_IMAGE

    from inference.engine import Context, ModelUnavailable, get_classifier  # imports TensorFlow, so only now

    try:
        classifier = get_classifier(args.model_dir)
    except ModelUnavailable as exc:
        print(f"error: model unavailable: {exc}", file=sys.stderr)
        return EXIT_NO_MODEL

    context = Context(age=args.age, sex=args.sex, site=args.site)
    predictions = classifier.predict_batch([image for _, image in opened], [context] * len(opened))
    for (path, _), prediction in zip(opened, predictions, strict=True):
        if args.json:
            print(json.dumps({"path": str(path), **prediction.as_dict()}), flush=True)
        else:
            top = sorted(prediction.probabilities.items(), key=lambda kv: kv[1], reverse=True)[:3]
            ranked = ", ".join(f"{name} {p:.2f}" for name, p in top)
            print(f"{path}: {prediction.predicted_class} ({ranked}); malignant {prediction.malignant_probability:.2f}")
    return EXIT_BAD_IMAGE if failed else 0


if __name__ == "__main__":
    sys.exit(main())
