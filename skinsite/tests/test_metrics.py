"""/metrics: off without METRICS_TOKEN, refused without it, and serving the series operators alert on."""

import pytest
from celery import current_app
from prometheus_client.parser import text_string_to_metric_families

from conftest import finish_analysis
from inference import quality, services
from inference.models import Analysis

TOKEN = "s3cret-metrics-token-for-tests"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def _scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404


@pytest.mark.usefixtures("metrics_on")
@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {TOKEN}"])
def test_metrics_need_the_token(client, db, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert b"skinsite_" not in response.content


@pytest.mark.usefixtures("metrics_on")
def test_analyses_refusals_model_and_worker_series(client, photo, lesion, real_image_bytes, settings):
    from conftest import upload
    from lesions import services as lesion_services

    finish_analysis(photo)
    refused = lesion_services.photo_create(lesion=lesion, upload=upload(real_image_bytes, name="dark.jpg"))
    Analysis.objects.filter(photo=refused).update(status="not_assessable", error=quality.TOO_DARK)
    lesion_services.photo_create(lesion=lesion, upload=upload(real_image_bytes, name="new.jpg"))
    services.worker_heartbeat_record(name="inference@host:1", model_version="v7")

    samples = _scrape(client)

    assert samples[("skinsite_analyses", (("status", "done"),))] == 1
    assert samples[("skinsite_analyses", (("status", "pending"),))] == 1
    assert samples[("skinsite_analyses", (("status", "not_assessable"),))] == 1
    assert samples[("skinsite_analyses", (("status", "failed"),))] == 0
    assert samples[("skinsite_analysis_refusals", (("reason", "too_dark"),))] == 1
    assert samples[("skinsite_analysis_refusals", (("reason", "blurry"),))] == 0
    assert samples[("skinsite_model_info", (("version", services.current_model_version()),))] == 1
    assert samples[("skinsite_worker_with_model_up", (("version", "v7"),))] == 1


@pytest.mark.usefixtures("metrics_on")
def test_request_latency_is_counted_by_route_not_by_path(client, db):
    def count(samples):
        return samples.get(
            (
                "skinsite_http_request_duration_seconds_count",
                (("method", "GET"), ("route", "learn/"), ("status", "2xx")),
            ),
            0,
        )

    before = count(_scrape(client))
    client.get("/learn/")
    client.get("/no/such/page-1")
    client.get("/no/such/page-2")
    samples = _scrape(client)
    assert count(samples) == before + 1
    assert not any("page-1" in str(labels) for _, labels in samples)
    assert (
        "skinsite_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "unmatched"), ("status", "4xx")),
    ) in samples


@pytest.mark.usefixtures("metrics_on")
def test_queue_lengths_from_the_broker(client, db):
    samples = _scrape(client)
    assert samples[("skinsite_broker_up", ())] == 1
    for queue in ("inference", "default", "email"):
        assert samples[("skinsite_celery_queue_length", (("queue", queue),))] >= 0


@pytest.mark.usefixtures("metrics_on")
def test_a_broker_that_is_down_is_reported_not_fatal(client, db, monkeypatch):
    monkeypatch.setitem(current_app.conf, "broker_url", "redis://127.0.0.1:1/8")
    monkeypatch.setitem(current_app.conf, "broker_read_url", None)
    monkeypatch.setitem(current_app.conf, "broker_transport_options", {"socket_connect_timeout": 1})
    samples = _scrape(client)
    assert samples[("skinsite_broker_up", ())] == 0
    assert ("skinsite_analyses", (("status", "done"),)) in samples


@pytest.mark.usefixtures("metrics_on")
def test_email_task_failures_are_counted(client, db, settings):
    from celery.signals import task_failure, task_retry

    name = settings.EMAIL_TASK_NAMES[0]
    task = current_app.tasks[name]
    key_retry = ("skinsite_email_failures_total", (("outcome", "retry"), ("task", name)))
    key_gave_up = ("skinsite_email_failures_total", (("outcome", "gave_up"), ("task", name)))
    before = _scrape(client)
    task_retry.send(sender=task, request=task.request, reason="SMTP down")
    task_failure.send(sender=task, task_id="1", exception=OSError("SMTP down"))
    after = _scrape(client)
    assert after[key_retry] == before.get(key_retry, 0) + 1
    assert after[key_gave_up] == before.get(key_gave_up, 0) + 1


@pytest.mark.usefixtures("metrics_on")
def test_upload_to_result_time_is_observed_for_a_photos_first_result(client, photo):
    from django.utils import timezone

    key = ("skinsite_upload_to_result_seconds_count", (("status", "done"),))
    before = _scrape(client).get(key, 0)
    analysis = finish_analysis(photo)
    analysis.finished_at = timezone.now()
    analysis.save()
    services.analysis_announce(analysis)
    assert _scrape(client)[key] == before + 1
