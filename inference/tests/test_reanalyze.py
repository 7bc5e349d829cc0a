"""`manage.py reanalyze`: a new model analyses old photos and the old results are kept."""

import io

import pytest
from django.core.management import CommandError, call_command

from inference.models import Analysis
from inference.services import current_model_version

pytestmark = pytest.mark.django_db


def test_reanalyze_adds_the_installed_models_analysis_and_keeps_the_old_one(photo, django_capture_on_commit_callbacks):
    Analysis.objects.filter(photo=photo).update(model_version="old-model-v0", status="done")
    out = io.StringIO()
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("reanalyze", "--model-version", current_model_version(), stdout=out)
    assert "Queued 1 photos" in out.getvalue()
    assert len(callbacks) == 1
    versions = set(photo.analyses.values_list("model_version", flat=True))
    assert versions == {"old-model-v0", current_model_version()}

    # Running it again queues nothing new.
    out = io.StringIO()
    call_command("reanalyze", stdout=out)
    assert "Queued 0 photos" in out.getvalue()


def test_reanalyze_refuses_a_version_that_is_not_installed(photo):
    with pytest.raises(CommandError, match="The installed model is"):
        call_command("reanalyze", "--model-version", "does-not-exist")


def test_dry_run_queues_nothing(photo, django_capture_on_commit_callbacks):
    Analysis.objects.filter(photo=photo).delete()
    out = io.StringIO()
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("reanalyze", "--dry-run", stdout=out)
    assert "1 photos would be analysed" in out.getvalue()
    assert callbacks == []
    assert not Analysis.objects.exists()
