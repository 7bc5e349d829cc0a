"""Classify lesion photos from the command line, streaming: memory stays bounded for any number of files.

    python -m evaluation.predict --json IMG [IMG ...] [--site back] [--age 55] [--sex female]
        [--photo-type clinical|dermoscopy] [--model-dir DIR]

With --json, prints one JSON object per image and line, as soon as its batch is scored: path,
probabilities, predicted_class, malignant_probability, model_version, photo_type (and whether it
was detected or given), assessable and reason (the not-assessable check the worker applies; a
photo that is not assessable still gets its numbers here, for research use, but the app would not
show them). Without --json, a short readable summary. --site, --age, --sex and --photo-type (all
optional) are what the model may know besides the photo, applied to every image.

Images are decoded one batch at a time, JPEGs at a reduced scale (Pillow's draft), so a folder of
full-size phone photos needs no more memory than a few of them. Unreadable images are reported
on stderr and make the exit status non-zero; the others are still classified.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from training.contract import LOCALIZATIONS, SEXES, WORK_MIN, open_image

EXIT_BAD_IMAGE = 1
EXIT_NO_MODEL = 3
BATCH = 8  # images decoded and scored together: a few MB of pixels at most
PHOTO_TYPES = ("dermoscopy", "clinical")


def _batches(paths: list[Path], size: int) -> Iterator[tuple[list[tuple[Path, Image.Image]], list[str]]]:
    """(readable images, error messages) for successive groups of `BATCH` paths."""
    for start in range(0, len(paths), BATCH):
        opened, errors = [], []
        for path in paths[start : start + BATCH]:
            try:
                opened.append((path, open_image(path, size)))
            except FileNotFoundError:
                errors.append(f"error: {path}: no such file")
            except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
                errors.append(f"error: {path}: not a readable image ({exc})")
        yield opened, errors


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.predict", description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="+", type=Path, metavar="IMG", help="image files to classify")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    parser.add_argument("--model-dir", type=Path, default=None, help="model folder (default: MODEL_DIR or bundled)")
    parser.add_argument("--site", choices=LOCALIZATIONS, default=None, help="the lesion's body site")
    parser.add_argument("--age", type=float, default=None, help="the patient's age in years")
    parser.add_argument("--sex", choices=SEXES, default=None)
    parser.add_argument(
        "--photo-type", choices=PHOTO_TYPES, default=None, help="say the photo type instead of detecting it"
    )
    args = parser.parse_args(argv)

    missing = [path for path in args.images if not path.is_file()]
    for path in missing:
        print(f"error: {path}: no such file", file=sys.stderr)
    paths = [path for path in args.images if path.is_file()]
    if not paths:
        return EXIT_BAD_IMAGE

    from inference.engine import Context, ModelUnavailable, get_classifier  # imports TensorFlow, so only now

    try:
        classifier = get_classifier(args.model_dir)
    except ModelUnavailable as exc:
        print(f"error: model unavailable: {exc}", file=sys.stderr)
        return EXIT_NO_MODEL

    context = Context(age=args.age, sex=args.sex, site=args.site, photo_type=args.photo_type)
    failed = bool(missing)
    # Decode at the larger of the model's input and the quality check's working size.
    for opened, errors in _batches(paths, max(classifier.input_size, WORK_MIN)):
        for message in errors:
            print(message, file=sys.stderr)
        failed = failed or bool(errors)
        if not opened:
            continue
        predictions = classifier.predict_batch([image for _, image in opened], [context] * len(opened))
        for (path, image), prediction in zip(opened, predictions, strict=True):
            verdict = classifier.assessment(image, prediction.refusal)
            if args.json:
                record = {"path": str(path), **prediction.as_dict(), "assessable": verdict.ok, "reason": verdict.reason}
                print(json.dumps(record), flush=True)
            else:
                top = sorted(prediction.probabilities.items(), key=lambda kv: kv[1], reverse=True)[:3]
                ranked = ", ".join(f"{name} {p:.2f}" for name, p in top)
                note = "" if verdict.ok else f" [not assessable: {verdict.reason}]"
                kind = f" ({prediction.photo_type})" if prediction.photo_type else ""
                print(
                    f"{path}{kind}: {prediction.predicted_class} ({ranked}); "
                    f"malignant {prediction.malignant_probability:.2f}{note}"
                )
    return EXIT_BAD_IMAGE if failed else 0


if __name__ == "__main__":
    sys.exit(main())
