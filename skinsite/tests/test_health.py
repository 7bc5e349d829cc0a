"""/healthz answers while the process runs; /readyz only while every dependency works, and says nothing more."""

import logging
from datetime import timedelta

import pytest
from celery import current_app
from django.db import connection
from django.utils import timezone

from inference import services
from inference.models import WorkerHeartbeat


@pytest.fixture
def worker_seen(db):
    services.worker_heartbeat_record(name="inference@host:1", model_version="v1")


def test_healthz_answers_without_login_or_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.usefixtures("worker_seen")
def test_readyz_is_ready_with_everything_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ready\n"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_readyz_fails_when_the_database_is_down(client, caplog):
    services.worker_heartbeat_record(name="inference@host:1", model_version="v1")
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent/skinsite-down.sqlite3"
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        with caplog.at_level(logging.WARNING, logger="skinsite.health"):
            response = client.get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert response.status_code == 503
    # Which check failed goes to the log only: the answer tells a stranger nothing.
    assert response.content == b"not ready\n"
    assert "database check failed" in caplog.text


@pytest.mark.usefixtures("worker_seen")
def test_readyz_fails_when_the_broker_is_down(client, caplog, monkeypatch):
    # Nothing listens on port 1: the connection is refused, as with a stopped Redis.
    monkeypatch.setitem(current_app.conf, "broker_url", "redis://127.0.0.1:1/8")
    monkeypatch.setitem(current_app.conf, "broker_write_url", None)
    monkeypatch.setitem(current_app.conf, "broker_transport_options", {"socket_connect_timeout": 1})
    with caplog.at_level(logging.WARNING, logger="skinsite.health"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"not ready\n"
    assert "broker check failed" in caplog.text


def test_readyz_fails_without_a_worker_that_has_the_model(client, db, caplog):
    with caplog.at_level(logging.WARNING, logger="skinsite.health"):
        assert client.get("/readyz").status_code == 503
    assert "worker check failed" in caplog.text


def test_readyz_fails_when_the_worker_went_quiet(client, db, settings):
    settings.READY_WORKER_MAX_AGE = 60
    services.worker_heartbeat_record(
        name="inference@host:1", model_version="v1", now=timezone.now() - timedelta(seconds=61)
    )
    assert client.get("/readyz").status_code == 503


def test_a_worker_without_a_model_does_not_count(client, db):
    services.worker_heartbeat_record(name="inference@host:1", model_version=services.MODEL_MISSING_VERSION)
    assert client.get("/readyz").status_code == 503


def test_heartbeats_of_processes_gone_for_a_day_are_dropped(db):
    services.worker_heartbeat_record(name="old@host:7", model_version="v1", now=timezone.now() - timedelta(days=2))
    services.worker_heartbeat_record(name="inference@host:1", model_version="v1")
    services.worker_heartbeat_record(name="inference@host:1", model_version="v2")
    assert list(WorkerHeartbeat.objects.values_list("name", "model_version")) == [("inference@host:1", "v2")]


def test_probes_are_not_redirected_to_https(client, settings, worker_seen):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
