"""Break one part of the production topology at a time under traffic; nothing may be lost.

For each scenario: requests that failed, photos lost (0), analyses never finished after the
sweep (0), duplicate analysis runs and duplicate emails (0). The numbers go to reports/faults.md.
"""

import os
import signal
import threading
import time
from collections.abc import Callable

import psycopg2  # type: ignore[import-untyped]  # no stubs: types-psycopg2 is not a requirement
import pytest

from faults.silent import SilentServer
from faults.smtp_sink import SmtpSink
from faults.stack import Stack, wait_until
from faults.traffic import (
    Traffic,
    account,
    completed_runs,
    emails_per_lesion,
    mail_messages,
    patients,
    run_clients,
    state,
    unfinished,
    wait_all_finished,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

FINISH_TIMEOUT = 150  # seconds for every analysis to finish once the traffic stops (sweeps included)


def _later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _settle(stack: Stack, traffic: Traffic, *, log_from: int, messages: Callable[[], list[str]] | None = None) -> dict:
    mine = {pid: p for pid, p in state(stack).items() if p["lesion_id"] in traffic.lesions}
    left = len(unfinished(mine))
    photos, waited = wait_all_finished(stack, traffic, timeout=FINISH_TIMEOUT)
    time.sleep(5)  # the last emails
    mails = messages() if messages else mail_messages(stack.mail)
    runs = completed_runs(stack.processes["inference"].log()[log_from:])
    numbers = account(traffic, photos, emails_per_lesion(mails), runs=runs)
    numbers["analyses_unfinished_when_traffic_stopped"] = left
    numbers["seconds_until_all_finished"] = round(waited, 1)
    return numbers


def _analysis_table(cursor: psycopg2.extensions.cursor) -> str:
    """The analyses' table, wherever the Analysis model lives."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE '%%\\_analysis' AND schemaname = 'public'")
    return cursor.fetchone()[0]


def _assert_nothing_lost(numbers: dict) -> None:
    assert numbers["photos_accepted"] > 0
    assert numbers["photos_lost"] == 0
    assert numbers["analyses_unfinished"] == 0
    assert numbers["duplicate_analysis_runs"] == 0
    assert numbers["duplicate_analysis_rows"] == 0
    assert numbers["duplicate_emails"] == 0


def test_redis_restarted_while_photos_are_uploaded(stack: Stack, record: Callable[[str, dict], None]) -> None:
    people = patients(stack, 4, "redis")
    traffic = Traffic()
    log_from = len(stack.processes["inference"].log())

    def restart_redis() -> None:
        stack.redis.stop()
        time.sleep(4)
        stack.redis.start()

    fault = _later(1.5, restart_redis)
    run_clients(stack, people, uploads_each=4, traffic=traffic)
    fault.join(timeout=60)
    numbers = _settle(stack, traffic, log_from=log_from)
    numbers["what"] = (
        "Redis (broker and rate-limit cache) stopped 1.5 s into 16 uploads from 4 clients and started "
        "again 4 s later, empty (no persistence): queued messages are gone, the sweep re-queues them"
    )
    record("redis restart", numbers)
    _assert_nothing_lost(numbers)
    assert numbers["requests_failed"] == 0  # the broker and the cache are no reason to answer 500


def test_postgresql_restarted_under_traffic(stack: Stack, record: Callable[[str, dict], None]) -> None:
    people = patients(stack, 4, "postgres")
    traffic = Traffic()
    log_from = len(stack.processes["inference"].log())
    fault = _later(1.5, stack.postgres.restart)
    run_clients(stack, people, uploads_each=4, traffic=traffic)
    fault.join(timeout=60)
    numbers = _settle(stack, traffic, log_from=log_from)
    numbers["what"] = (
        "PostgreSQL restarted (pg_ctl restart -m fast) 1.5 s into 16 uploads from 4 clients; requests "
        "during the restart fail and the clients retry them"
    )
    record("postgresql restart", numbers)
    _assert_nothing_lost(numbers)


def test_inference_worker_killed_mid_analysis(stack: Stack, record: Callable[[str, dict], None]) -> None:
    people = patients(stack, 2, "killed")
    traffic = Traffic()
    log_from = len(stack.processes["inference"].log())
    worker = stack.processes["inference"]
    kills: list[int] = []

    def kill_mid_analysis() -> None:
        # Watch the database: the moment an analysis is marked running (claimed, not finished),
        # SIGKILL the pool process that runs it.
        with psycopg2.connect(stack.postgres.url("skinsite")) as db:
            db.autocommit = True
            with db.cursor() as cursor:
                table = _analysis_table(cursor)
                for _ in range(2):
                    deadline = time.monotonic() + 90
                    running = False
                    while not running and time.monotonic() < deadline:
                        cursor.execute(f"SELECT count(*) FROM {table} WHERE status = 'running'")
                        running = cursor.fetchone()[0] > 0
                        time.sleep(0.01)
                    children = worker.children()
                    if running and children:
                        os.kill(children[0], signal.SIGKILL)
                        kills.append(children[0])
                    # The main process starts a new pool process, which loads the model again.
                    deadline = time.monotonic() + 120
                    while worker.children() in ([], children) and time.monotonic() < deadline:
                        time.sleep(0.5)
                    time.sleep(15)  # until that process has loaded TensorFlow

    fault = _later(0.5, kill_mid_analysis)
    run_clients(stack, people, uploads_each=3, traffic=traffic, pause=6)
    fault.join(timeout=300)
    numbers = _settle(stack, traffic, log_from=log_from)
    numbers["what"] = (
        f"the inference worker's pool process SIGKILLed {len(kills)} times while an analysis was running "
        "(marked running in the database, not finished), during 6 uploads from 2 clients (as the OOM killer "
        "would); the redelivered message leaves the row to the sweep, which hands it over once stale"
    )
    numbers["notes"] = f"{len(kills)} kills; an attempt count of 2 is the killed run and its take-over"
    record("worker SIGKILL", numbers)
    assert kills, "no pool process was killed"
    _assert_nothing_lost(numbers)
    assert numbers["requests_failed"] == 0


def test_smtp_server_that_never_answers(stack: Stack, record: Callable[[str, dict], None]) -> None:
    silent = SilentServer().__enter__()
    port = silent.port
    smtp_env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}"}
    sink = None
    try:
        stack.restart("email", env=smtp_env)
        people = patients(stack, 3, "smtp")
        traffic = Traffic()
        log_from = len(stack.processes["inference"].log())
        started = time.monotonic()
        run_clients(stack, people, uploads_each=2, traffic=traffic)
        photos, waited = wait_all_finished(stack, traffic, timeout=FINISH_TIMEOUT)
        analyses_done_after = time.monotonic() - started
        # The analysis emails go out ANALYSIS_EMAIL_BATCH_SECONDS after their analyses: let them
        # meet the hung server (the point of the scenario) before a working one takes its place.
        wait_until(lambda: silent.accepted > 0, timeout=60, interval=0.5, what="the email worker's first connection")
        time.sleep(5)  # its retries, EMAIL_TIMEOUT (3 s) each, hang too
        hung_connections = silent.accepted
        # The mail server comes back (same port): the retried emails go out, once each.
        silent.close()
        sink = SmtpSink(port).__enter__()
        deadline = time.monotonic() + 120
        # One "analysis ready" email may cover several of a patient's photos: wait until every
        # lesion that had a photo accepted is named in one.
        waiting_for = set(traffic.accepted.values())
        while not waiting_for <= set(emails_per_lesion(list(sink.messages))) and time.monotonic() < deadline:
            time.sleep(1)
        numbers = _settle(stack, traffic, log_from=log_from, messages=lambda: list(sink.messages))
    finally:
        silent.close()
        if sink is not None:
            sink.__exit__(None, None, None)
        stack.restart("email")
    numbers["what"] = (
        "the email worker's SMTP server accepts connections and never answers (EMAIL_TIMEOUT=3) during 6 "
        "uploads from 3 clients; then a working server takes its port and the retried emails go out"
    )
    numbers["notes"] = (
        f"every analysis finished {analyses_done_after:.1f} s after the traffic started while the mail "
        f"server hung ({hung_connections} connections held open); emails about "
        f"{len(waiting_for & set(emails_per_lesion(list(sink.messages))))} of the {len(waiting_for)} lesions "
        f"with an accepted photo delivered within 120 s of its recovery ({len(sink.messages)} emails)"
    )
    numbers["emails_delivered_after_recovery"] = len(sink.messages)
    record("hung SMTP server", numbers)
    _assert_nothing_lost(numbers)
    assert numbers["requests_failed"] == 0
    assert not unfinished(photos), "analyses waited on the hung mail server"
    assert waited < 60
