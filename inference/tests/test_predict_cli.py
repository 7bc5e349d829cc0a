"""`python -m inference.predict`: JSON lines out, clear errors and exit codes for bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.preprocessing import CLASSES

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGES = sorted((REPO_ROOT / "testdata" / "ham10000").glob("*.jpg"))
CARD = json.loads((REPO_ROOT / "inference" / "model" / "model_card.json").read_text(encoding="utf-8"))


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MODEL_DIR"}  # the bundled model, whatever the shell says
    return subprocess.run(
        [sys.executable, "-m", "inference.predict", *args],
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


def test_body_site_age_and_sex_are_passed_to_the_model():
    plain = json.loads(_run("--json", str(IMAGES[0])).stdout)
    result = _run("--json", str(IMAGES[0]), "--site", "face", "--age", "70", "--sex", "female")
    assert result.returncode == 0, result.stderr
    informed = json.loads(result.stdout)
    assert informed["probabilities"] != plain["probabilities"]  # the committed model uses them
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
