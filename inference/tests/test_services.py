"""Requesting, running and sweeping analyses, in-process (the worker tests cover the queue)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inference import services
from inference.models import Analysis
from inference.services import MODEL_MISSING_VERSION, analyses_sweep, analysis_request, analysis_run
from training.contract import CLASSES

pytestmark = pytest.mark.django_db


def test_a_new_photo_gets_one_pending_analysis_by_the_installed_model(photo):
    analysis = photo.analyses.get()
    assert analysis.status == "pending"
    assert analysis.model_version == services.current_model_version() != MODEL_MISSING_VERSION
    assert analysis.queued_at is not None


def test_run_stores_probabilities_and_is_idempotent(photo):
    analysis = analysis_run(photo_id=photo.pk)
    assert analysis.status == "done"
    assert analysis.attempts == 1
    assert set(analysis.probabilities) == set(CLASSES)
    assert sum(analysis.probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert analysis.predicted_class == max(analysis.probabilities, key=analysis.probabilities.get)
    assert analysis.malignant_probability == pytest.approx(analysis.p_akiec + analysis.p_bcc + analysis.p_mel)
    assert analysis.started_at <= analysis.finished_at

    # A redelivered message changes nothing and adds no row.
    assert analysis_run(photo_id=photo.pk) is None
    again = Analysis.objects.get(photo=photo)
    assert (again.attempts, again.finished_at) == (1, analysis.finished_at)


def test_the_model_gets_the_lesions_site_and_the_patients_age_and_sex_when_known(photo, alice):
    from inference.engine import Context, get_classifier

    assert services.analysis_context(photo) == Context(age=None, sex=None, site="back")
    alice.birth_year, alice.sex = photo.taken_at.year - 47, "female"
    alice.save()
    photo.refresh_from_db()
    assert services.analysis_context(photo) == Context(age=47, sex="female", site="back")
    photo.lesion.body_site = "unknown"
    assert services.analysis_context(photo).site is None

    # The stored probabilities are the model's answer for exactly that context.
    photo.lesion.body_site = "back"
    photo.lesion.save()
    analysis = analysis_run(photo_id=photo.pk)
    from PIL import Image

    with photo.image.open("rb") as fh:
        expected = get_classifier().predict(Image.open(fh), Context(age=47, sex="female", site="back"))
    assert analysis.probabilities == pytest.approx(expected.probabilities, abs=1e-6)


def test_the_analysis_records_what_the_model_was_told(photo, alice):
    analysis_run(photo_id=photo.pk)
    # No age or sex on the account: the model got the body site alone, and the row says so.
    inputs = Analysis.objects.get(photo=photo).inputs
    assert {key: inputs[key] for key in ("site", "age", "sex")} == {"site": "back", "age": None, "sex": None}
    # No photo type said: the model's detection is what it scored with.
    assert inputs["photo_type"] == inputs["photo_type_detected"] and inputs["photo_type"] in ("dermoscopy", "clinical")
    assert inputs["photo_type_given"] is False


def test_the_analysis_records_the_age_and_sex_it_was_given(photo, alice):
    alice.birth_year, alice.sex = photo.taken_at.year - 47, "female"
    alice.save()
    analysis_run(photo_id=photo.pk)
    inputs = Analysis.objects.get(photo=photo).inputs
    assert {key: inputs[key] for key in ("site", "age", "sex")} == {"site": "back", "age": 47, "sex": "female"}
    assert isinstance(inputs["age"], int)


def test_an_unfinished_analysis_records_no_inputs(photo):
    assert photo.analyses.get().inputs is None


def test_a_photo_deleted_before_its_turn_is_skipped(photo):
    photo_id = photo.pk
    photo.delete()
    assert analysis_run(photo_id=photo_id) is None
    assert not Analysis.objects.exists()


def test_a_missing_file_fails_with_a_reason_and_keeps_the_photo(photo):
    photo.image.storage.delete(photo.image.name)
    analysis = analysis_run(photo_id=photo.pk)
    assert analysis.status == "failed"
    assert analysis.error == "The photo file is missing from storage."
    assert analysis.finished_at is not None
    photo.refresh_from_db()


def test_a_model_that_is_not_installed_fails_with_a_reason(photo, settings, tmp_path):
    settings.MODEL_DIR = tmp_path
    assert services.current_model_version() == MODEL_MISSING_VERSION
    analysis = analysis_run(photo_id=photo.pk)
    assert analysis.status == "failed"
    assert "not installed" in analysis.error


def test_an_analysis_for_another_model_version_is_not_faked(photo):
    analysis = analysis_run(photo_id=photo.pk, model_version="some-older-model")
    assert analysis.status == "failed"
    assert "some-older-model" in analysis.error
    # The installed model's own analysis is untouched.
    assert photo.analyses.get(model_version=services.current_model_version()).status == "pending"


def test_attempts_used_up_by_crashed_workers_end_in_failed(photo, settings):
    Analysis.objects.filter(photo=photo).update(status="running", attempts=settings.ANALYSIS_MAX_ATTEMPTS)
    analysis_run(photo_id=photo.pk)
    analysis = photo.analyses.get()
    assert analysis.status == "failed"
    assert f"stopped {settings.ANALYSIS_MAX_ATTEMPTS} times" in analysis.error


def test_requesting_again_resets_a_failed_analysis(photo, django_capture_on_commit_callbacks):
    Analysis.objects.filter(photo=photo).update(status="failed", error="boom", attempts=3)
    with django_capture_on_commit_callbacks() as callbacks:
        analysis = analysis_request(photo=photo)
    assert (analysis.status, analysis.error, analysis.attempts) == ("pending", "", 0)
    assert len(callbacks) == 1  # one message, sent after commit


def test_requesting_a_done_analysis_sends_nothing(photo, django_capture_on_commit_callbacks):
    analysis_run(photo_id=photo.pk)
    with django_capture_on_commit_callbacks() as callbacks:
        analysis = analysis_request(photo=photo)
    assert analysis.status == "done"
    assert callbacks == []


def test_sweep_picks_only_stale_unfinished_analyses(alice, lesion, photo, django_capture_on_commit_callbacks):
    from conftest import jpeg_bytes, upload
    from lesions.services import photo_create

    fresh = photo_create(lesion=lesion, upload=upload(jpeg_bytes()))
    done = photo_create(lesion=lesion, upload=upload(jpeg_bytes(color=(10, 20, 30))))
    analysis_run(photo_id=done.pk)
    long_ago = timezone.now() - timedelta(hours=1)
    Analysis.objects.filter(photo=photo).update(queued_at=long_ago)
    Analysis.objects.filter(photo=done).update(queued_at=long_ago, started_at=long_ago)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert analyses_sweep() == 1
    assert len(callbacks) == 1
    assert Analysis.objects.get(photo=photo).queued_at > long_ago
    assert Analysis.objects.get(photo=fresh).status == "pending"
