"""An existing database upgrades with its rows when models move between apps.

The sharing models left `lesions` for `sharing` (lesions 0006, sharing 0001) and `Analysis` left it
for `inference` (lesions 0007, inference 0001), with their tables. This goes back to the schema
before the moves, writes rows the way that code did, migrates forward and reads them through
today's models.
"""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from inference.models import Analysis
from lesions.models import Photo
from sharing.models import PhysicianNote, ShareAccess, ShareLink

MOVED_FROM = ("lesions", "0005_analysis_inputs")  # the last migration before the moves
MOVED_TO = ("sharing", "inference")


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()  # see what the previous migrate applied
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _before_the_moves():
    """Every other app as it is now, lesions just before the moves, the apps it moved to not there yet."""
    graph = MigrationExecutor(connection).loader.graph
    apps = {app for app, _ in graph.leaf_nodes()} - {MOVED_FROM[0], *MOVED_TO}
    return [MOVED_FROM] + [node for node in graph.leaf_nodes() if node[0] in apps]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_moves_are_there_after_them():
    old = _migrate(_before_the_moves())
    user = old.get_model("accounts", "User").objects.create(email="alice@example.com", password="x")
    lesion = old.get_model("lesions", "Lesion").objects.create(owner=user, name="Left shoulder", body_site="back")
    photo = old.get_model("lesions", "Photo").objects.create(
        lesion=lesion, image="photos/a.jpg", taken_at=timezone.now(), sha256="b" * 64
    )
    old.get_model("lesions", "Analysis").objects.create(
        photo=photo, model_version="v1", status="done", p_nv=0.9, predicted_class="nv", heatmap="heatmaps/h.jpg"
    )
    expires = timezone.now() + timedelta(days=30)
    link = old.get_model("lesions", "ShareLink").objects.create(
        owner=user, lesion=lesion, physician_email="dr@clinic.example", token_hash="a" * 64, expires_at=expires
    )
    old.get_model("lesions", "ShareAccess").objects.create(share=link, kind="pdf")
    old.get_model("lesions", "PhysicianNote").objects.create(
        lesion=lesion, share=link, author_email="dr@clinic.example", body="Re-photograph in 3 months."
    )
    ContentType.objects.clear_cache()

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    share = ShareLink.objects.get()
    assert (share.pk, share.owner.email, share.lesion.name) == (link.pk, "alice@example.com", "Left shoulder")
    assert (share.token_hash, share.expires_at, share.status) == ("a" * 64, expires, "active")
    assert list(share.accesses.values_list("kind", flat=True)) == ["pdf"]
    note = PhysicianNote.objects.get()
    assert (note.share_id, note.lesion.name, note.body) == (share.pk, "Left shoulder", "Re-photograph in 3 months.")
    analysis = Analysis.objects.get()
    assert (analysis.photo_id, analysis.model_version, analysis.status) == (photo.pk, "v1", "done")
    assert (analysis.probabilities["nv"], analysis.predicted_label, analysis.heatmap.name) == (
        0.9,
        "Melanocytic nevus (mole)",
        "heatmaps/h.jpg",
    )
    assert list(Photo.objects.get(pk=photo.pk).analyses.all()) == [analysis]
    # The admin's history and permissions follow the models: their content types were renamed.
    ContentType.objects.clear_cache()
    for model, app in (
        (ShareLink, "sharing"),
        (ShareAccess, "sharing"),
        (PhysicianNote, "sharing"),
        (Analysis, "inference"),
    ):
        assert ContentType.objects.get_for_model(model).app_label == app
    moved = ["sharelink", "shareaccess", "physiciannote", "analysis"]
    assert not ContentType.objects.filter(app_label="lesions", model__in=moved).exists()
