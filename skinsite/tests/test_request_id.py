"""One request id per web request: answered in X-Request-ID, carried into queued tasks, in JSON log lines."""

import json
import logging
from types import SimpleNamespace

from skinsite import requestlog


def test_each_request_gets_an_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_the_proxys_id_is_kept_when_it_looks_like_one(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})["X-Request-ID"] == "lb-1234abcd"


def test_a_forged_id_cannot_write_into_the_logs(client):
    answered = client.get("/healthz", headers={"X-Request-ID": "x\nFAKE LOG LINE"})["X-Request-ID"]
    assert "\n" not in answered
    assert "FAKE" not in answered


def test_the_id_travels_in_the_task_message_and_back_out_in_the_worker():
    token = requestlog.request_id.set("req-00000001")
    try:
        headers: dict = {}
        requestlog._id_into_the_message(headers=headers)
    finally:
        requestlog.request_id.reset(token)
    assert headers == {"request_id": "req-00000001"}

    # The worker: Celery puts the message's headers on the task's request.
    requestlog._id_from_the_message(task=SimpleNamespace(request=SimpleNamespace(**headers)))
    assert requestlog.request_id.get() == "req-00000001"
    requestlog._id_done()
    assert requestlog.request_id.get() == "-"


def test_json_lines_carry_the_request_id():
    record = logging.LogRecord("inference.services", logging.WARNING, __file__, 1, "photo %s failed", (7,), None)
    token = requestlog.request_id.set("req-00000002")
    try:
        requestlog.RequestIdFilter().filter(record)
    finally:
        requestlog.request_id.reset(token)
    line = json.loads(requestlog.JsonFormatter().format(record))
    assert line["message"] == "photo 7 failed"
    assert (line["level"], line["logger"], line["request_id"]) == ("WARNING", "inference.services", "req-00000002")
