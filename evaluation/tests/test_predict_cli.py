"""`python -m evaluation.predict`: JSON lines out, clear errors and exit codes for bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.contract import CLASSES

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGES = sorted((REPO_ROOT / "testdata" / "ham10000").glob("*.jpg"))
CARD = json.loads((REPO_ROOT / "inference" / "model" / "model_card.json").read_text(encoding="utf-8"))


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MODEL_DIR"}  # the bundled model, whatever the shell says
    return subprocess.run(
        [sys.executable, "-m", "evaluation.predict", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_json_lines_one_per_image():
    result = _run("--json", str(IMAGES[0]), str(IMAGES[1]))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    for line, path in zip(lines, IMAGES[:2], strict=True):
        record = json.loads(line)
        assert record["path"] == str(path)
        assert set(record["probabilities"]) == set(CLASSES)
        assert sum(record["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
        assert record["predicted_class"] in CLASSES
        assert record["malignant_probability"] == pytest.approx(
            sum(record["probabilities"][c] for c in ("akiec", "bcc", "mel")), abs=1e-9
        )
        assert record["model_version"] == CARD["version"]


def test_json_says_whether_assessable_why_and_the_photo_type():
    record = json.loads(_run("--json", str(IMAGES[0])).stdout)
    assert record["assessable"] is True and record["reason"] == ""
    if CARD.get("photo_type"):
        assert record["photo_type"] == "dermoscopy" and record["photo_type_given"] is False
        given = json.loads(_run("--json", "--photo-type", "clinical", str(IMAGES[0])).stdout)
        assert given["photo_type"] == "clinical" and given["photo_type_given"] is True
        assert given["photo_type_detected"] == "dermoscopy"
        if CARD["calibration"]["photo_type_used"]:
            assert given["probabilities"] != record["probabilities"]  # the clinical calibration scores it
    else:
        assert record["photo_type"] is None


def test_body_site_age_and_sex_are_passed_to_the_model():
    plain = json.loads(_run("--json", str(IMAGES[0])).stdout)
    result = _run("--json", str(IMAGES[0]), "--site", "face", "--age", "70", "--sex", "female")
    assert result.returncode == 0, result.stderr
    informed = json.loads(result.stdout)
    if "nothing" not in CARD["metadata_input"].get("used_by", ""):
        assert informed["probabilities"] != plain["probabilities"]  # the model uses them
    else:  # fitted with them blank: accepted, and they change nothing
        assert informed["probabilities"] == plain["probabilities"]
    wrong = _run(str(IMAGES[0]), "--site", "elbow")
    assert wrong.returncode == 2 and "invalid choice: 'elbow'" in wrong.stderr


def test_missing_file_is_an_error_without_traceback(tmp_path):
    missing = tmp_path / "no-such-mole.jpg"
    result = _run("--json", str(missing))
    assert result.returncode != 0
    assert result.stdout == ""
    assert "no-such-mole.jpg" in result.stderr and "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_image_among_good_ones_still_classifies_the_good_ones(tmp_path):
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("this is not a JPEG", encoding="utf-8")
    result = _run("--json", str(IMAGES[0]), str(not_an_image))
    assert result.returncode != 0
    assert "notes.jpg" in result.stderr and "not a readable image" in result.stderr
    assert "Traceback" not in result.stderr
    assert [json.loads(line)["path"] for line in result.stdout.splitlines()] == [str(IMAGES[0])]


def test_missing_model_dir_is_reported(tmp_path):
    result = _run("--json", "--model-dir", str(tmp_path / "no-model"), str(IMAGES[0]))
    assert result.returncode == 3
    assert "model unavailable" in result.stderr
    assert "Traceback" not in result.stderr


def test_hundreds_of_large_photos_stream_in_bounded_memory(tmp_path):
    """300 twelve-megapixel JPEGs (36 MB each decoded): memory must not grow with the number of files."""
    import shutil

    import numpy as np
    from PIL import Image

    ramp = np.linspace(60, 200, 4000, dtype=np.uint8)[None, :, None].repeat(3000, axis=0).repeat(3, axis=2)
    big = tmp_path / "phone_0.jpg"
    Image.fromarray(ramp).save(big, quality=90)
    paths = [big]
    for i in range(1, 300):
        paths.append(tmp_path / f"phone_{i}.jpg")
        shutil.copyfile(big, paths[-1])

    def peak_rss_mb(files) -> tuple[float, subprocess.CompletedProcess]:
        code = (
            "import resource, subprocess, sys; "
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); "
            "sys.stderr.write(r.stderr); print(r.stdout, end='')"
        )
        env = {k: v for k, v in os.environ.items() if k != "MODEL_DIR"}
        result = subprocess.run(
            [sys.executable, "-c", code, sys.executable, "-m", "evaluation.predict", "--json", *map(str, files)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        first, _, rest = result.stdout.partition("\n")
        return float(first), subprocess.CompletedProcess(result.args, result.returncode, rest, result.stderr)

    # Two full batches against 300 photos: what grows is what the number of files costs, not the
    # model's working memory for one batch (which is larger for a larger model input).
    from evaluation.predict import BATCH

    few_mb, few = peak_rss_mb(paths[: 2 * BATCH])
    many_mb, many = peak_rss_mb(paths)
    assert few.returncode == 0 and many.returncode == 0, many.stderr
    assert len(many.stdout.splitlines()) == 300
    assert many_mb < few_mb + 150, f"peak RSS {many_mb:.0f} MB for 300 photos against {few_mb:.0f} MB for {2 * BATCH}"
