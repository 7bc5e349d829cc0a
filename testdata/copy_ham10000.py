"""Copy a small set of real HAM10000 test-split images into `testdata/ham10000/` for the tests.

    python -m testdata.copy_ham10000 [--data ../shared/data/ham10000]   # from the repository root

Two images per class, from two different lesions, all from the TEST split (so no model was
trained on them), copied byte for byte with their metadata rows and an attribution file. The
committed copies let the test suite run on a fresh clone without the full dataset. It lives beside
the data it writes, not in the `training` library: nothing trains or serves with it.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

from training.contract import CLASSES
from training.data import DEFAULT_DATA_DIR, DEFAULT_SPLIT_FILE, read_metadata, read_split

DEFAULT_OUT = Path(__file__).resolve().parent / "ham10000"
PER_CLASS = 2

ATTRIBUTION = """# HAM10000 test images

These {n} images ({per_class} per class, each from a different lesion) and the matching rows of
`metadata.csv` come from the HAM10000 dataset:

> Tschandl P., Rosendahl C., Kittler H. *The HAM10000 dataset, a large collection of multi-source
> dermatoscopic images of common pigmented skin lesions.* Sci. Data 5, 180161 (2018).
> doi:10.1038/sdata.2018.161 (data: Harvard Dataverse, doi:10.7910/DVN/DBW86T)

Licence: **CC BY-NC-SA 4.0**, non-commercial use only; attribute the authors and share alike.

The files are unchanged copies (200x150 px JPEG, as in the copy described in
`../shared/data/ham10000/SOURCE.md`). All of them are in the TEST split of
`training/splits/ham10000_split.csv`, so no committed model was trained on them. Regenerate with
`python -m testdata.copy_ham10000`.
"""


def pick(split_file: Path = DEFAULT_SPLIT_FILE, per_class: int = PER_CLASS) -> list[str]:
    """The first `per_class` test images of each class by image_id, one per lesion."""
    chosen: list[str] = []
    test_rows = sorted((r for r in read_split(split_file) if r.split == "test"), key=lambda r: r.image_id)
    for dx in CLASSES:
        lesions: set[str] = set()
        for row in test_rows:
            if row.dx == dx and row.lesion_id not in lesions and len(lesions) < per_class:
                lesions.add(row.lesion_id)
                chosen.append(row.image_id)
    return chosen


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description="Copy the committed test images.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    image_ids = pick()
    by_id = {row["image_id"]: row for row in read_metadata(args.data)}
    args.out.mkdir(parents=True, exist_ok=True)
    for image_id in image_ids:
        shutil.copyfile(args.data / "images" / f"{image_id}.jpg", args.out / f"{image_id}.jpg")
    with (args.out / "metadata.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(by_id[image_ids[0]]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(by_id[image_id] for image_id in image_ids)
    (args.out / "ATTRIBUTION.md").write_text(
        ATTRIBUTION.format(n=len(image_ids), per_class=PER_CLASS), encoding="utf-8"
    )
    print(f"Copied {len(image_ids)} images to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
