"""One stack for the whole fault suite, and the report it writes (reports/faults.md and .json)."""

import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from faults.stack import BASE_DIR, Stack

# Sweep often and call a running analysis stale after 30 s (an analysis takes seconds here), so
# lost work is found within the suite's time; the soft limit keeps a stuck analysis below that.
STACK_ENV = {
    "ANALYSIS_SWEEP_INTERVAL": "5",
    "ANALYSIS_STALE_SECONDS": "30",
    "ANALYSIS_SOFT_TIME_LIMIT": "20",
    "EMAIL_TIMEOUT": "3",
    "CELERY_BROKER_SOCKET_TIMEOUT": "2",
}

RESULTS: dict[str, dict] = {}


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    started = time.monotonic()
    stack = Stack(web_workers=2, web_threads=4, extra_env=STACK_ENV)
    try:
        stack.start_services()
        stack.start()
        RESULTS["_setup"] = {"seconds_to_start": round(time.monotonic() - started, 1)}
        yield stack
    finally:
        stack.stop()
        if os.environ.get("FAULTS_KEEP_LOGS"):
            print(f"logs kept in {stack.logs}")
        else:
            stack.destroy()


@pytest.fixture
def record() -> Callable[[str, dict], None]:
    def save(name: str, numbers: dict) -> None:
        RESULTS[name] = numbers

    return save


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    scenarios = {k: v for k, v in RESULTS.items() if not k.startswith("_")}
    if not scenarios:
        return
    out = BASE_DIR / "reports"
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU cores, {platform.python_implementation()} {platform.python_version()}",
        "exit_status": int(exitstatus),
        **RESULTS.get("_setup", {}),
        "stack_env": STACK_ENV,
    }
    (out / "faults.json").write_text(json.dumps({"meta": meta, "scenarios": scenarios}, indent=2) + "\n")
    (out / "faults.md").write_text(_markdown(meta, scenarios))


ROWS = [
    ("requests", "requests sent"),
    ("requests_failed", "requests that failed"),
    ("photos_accepted", "photos accepted (202)"),
    ("photos_lost", "**photos lost** (accepted, then missing)"),
    ("photos_saved_although_request_failed", "photos saved although the request failed"),
    ("analyses_unfinished_when_traffic_stopped", "analyses unfinished when the traffic stopped"),
    ("analyses_unfinished", "**analyses never finished** (after the sweep)"),
    ("seconds_until_all_finished", "seconds until every analysis had finished"),
    ("analysis_runs_completed", "analysis runs that completed (worker log)"),
    ("duplicate_analysis_runs", "**duplicate analysis runs**"),
    ("duplicate_analysis_rows", "duplicate analysis rows"),
    ("emails", "analysis emails sent"),
    ("duplicate_emails", "**duplicate emails**"),
]


def _markdown(meta: dict, scenarios: dict[str, dict]) -> str:
    names = list(scenarios)
    lines = [
        "# Fault suite",
        "",
        f"`make faults`, {meta['date']}, on {meta['machine']} (shared with other work while it ran). "
        f"pytest exit status {meta['exit_status']}.",
        "",
        "Each scenario runs against the production topology of `make serve` (gunicorn, an inference "
        "worker, an email worker, beat) on a PostgreSQL cluster and a Redis of the suite's own, on "
        "loopback. Clients are phone apps on the API: each creates a lesion, uploads a real "
        "HAM10000 photo and lists its lesions, retrying a failed request up to 3 times.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key, label in ROWS:
        lines.append(f"| {label} | " + " | ".join(str(scenarios[n].get(key, "")) for n in names) + " |")
    lines += ["", "## Scenarios", ""]
    for name, numbers in scenarios.items():
        lines.append(f"- **{name}**: {numbers.get('what', '')}")
        if numbers.get("failures"):
            failures = ", ".join(f"{k} ×{v}" for k, v in sorted(numbers["failures"].items()))
            lines.append(f"  Failed requests: {failures}.")
        for key in ("attempts_histogram", "analyses_by_status", "notes"):
            if numbers.get(key):
                lines.append(f"  {key.replace('_', ' ')}: {numbers[key]}.")
    lines += [
        "",
        f"Settings of the run: {', '.join(f'`{k}={v}`' for k, v in meta['stack_env'].items())}. "
        "Raw numbers: `reports/faults.json`.",
        "",
    ]
    return "\n".join(lines)
