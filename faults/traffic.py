"""Patients' traffic against a running stack, and the accounting of what became of it."""

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import requests

from faults.probe import PASSWORD
from faults.stack import BASE_DIR, Stack

IMAGES = sorted((BASE_DIR / "testdata" / "ham10000").glob("*.jpg"))


@dataclass
class Patient:
    email: str
    token: str
    session: requests.Session


@dataclass
class Traffic:
    """What the clients saw: every request, and the photos the server said it accepted."""

    requests: int = 0
    failed: int = 0
    failures: Counter = field(default_factory=Counter)
    accepted: dict[int, int] = field(default_factory=dict)  # photo id → lesion id
    lesions: set[int] = field(default_factory=set)  # every lesion this traffic created
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ok: bool, what: str) -> None:
        with self.lock:
            self.requests += 1
            if not ok:
                self.failed += 1
                self.failures[what] += 1


def patients(stack: Stack, count: int, prefix: str) -> list[Patient]:
    emails = json.loads(stack.probe("users", str(count), prefix))
    result = []
    for email in emails:
        session = requests.Session()
        response = session.post(
            f"{stack.base_url}/api/auth/token/", json={"email": email, "password": PASSWORD}, timeout=30
        )
        response.raise_for_status()
        token = response.json()["token"]
        session.headers["Authorization"] = f"Token {token}"
        result.append(Patient(email, token, session))
    return result


def _call(traffic: Traffic, what: str, send: Callable[[], requests.Response]) -> requests.Response | None:
    try:
        response = send()
    except requests.RequestException as exc:
        traffic.record(False, f"{what}: {type(exc).__name__}")
        return None
    ok = response.status_code < 400
    traffic.record(ok, f"{what}: {response.status_code}" if not ok else what)
    return response


def upload_one(stack: Stack, patient: Patient, traffic: Traffic, image: Path, *, retries: int = 3) -> None:
    """One lesion and one photo of it, as a phone app would send them (retrying a failed request)."""
    lesion_id = None
    for _ in range(retries):
        response = _call(
            traffic,
            "create lesion",
            lambda: patient.session.post(
                f"{stack.base_url}/api/lesions/", json={"name": image.stem, "body_site": "back"}, timeout=30
            ),
        )
        if response is not None and response.status_code == 201:
            lesion_id = response.json()["id"]
            with traffic.lock:
                traffic.lesions.add(lesion_id)
            break
        time.sleep(0.5)
    if lesion_id is None:
        return
    for _ in range(retries):
        with image.open("rb") as fh:
            response = _call(
                traffic,
                "upload photo",
                partial(
                    patient.session.post,
                    f"{stack.base_url}/api/lesions/{lesion_id}/photos/",
                    files={"image": (image.name, fh, "image/jpeg")},
                    timeout=60,
                ),
            )
        if response is not None and response.status_code == 202:
            with traffic.lock:
                traffic.accepted[response.json()["id"]] = lesion_id
            return
        time.sleep(0.5)


def read_lists(stack: Stack, patient: Patient, traffic: Traffic) -> None:
    _call(traffic, "list lesions", lambda: patient.session.get(f"{stack.base_url}/api/lesions/", timeout=30))


def run_clients(stack: Stack, people: list[Patient], uploads_each: int, traffic: Traffic, pause: float = 0.3) -> None:
    """Each patient uploads `uploads_each` photos (each of a new lesion) and reads their list between."""

    def client(index: int, patient: Patient) -> None:
        for n in range(uploads_each):
            upload_one(stack, patient, traffic, IMAGES[(index * uploads_each + n) % len(IMAGES)])
            read_lists(stack, patient, traffic)
            time.sleep(pause)

    threads = [threading.Thread(target=client, args=(i, p)) for i, p in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)


def state(stack: Stack) -> dict[int, dict]:
    return {p["id"]: p for p in json.loads(stack.probe("state"))["photos"]}


def unfinished(photos: dict[int, dict]) -> list[int]:
    done = {"done", "failed", "not_assessable"}
    return [
        pid for pid, p in photos.items() if not p["analyses"] or any(a["status"] not in done for a in p["analyses"])
    ]


def wait_all_finished(stack: Stack, traffic: Traffic, *, timeout: float) -> tuple[dict[int, dict], float]:
    """Poll until every analysis of this traffic's photos has finished (beat's sweep re-queues what
    was lost) or `timeout` seconds have passed; returns the photos and the seconds it took."""
    started = time.monotonic()

    def mine() -> dict[int, dict]:
        return {pid: p for pid, p in state(stack).items() if p["lesion_id"] in traffic.lesions}

    photos = mine()
    while unfinished(photos) and time.monotonic() - started < timeout:
        time.sleep(3)
        photos = mine()
    return photos, time.monotonic() - started


_LESION_LINK = re.compile(r"/lesions/(\d+)/")


def emails_per_lesion(messages: list[str]) -> Counter:
    """How many emails mention each lesion (the patient's analysis-finished email links its lesion)."""
    counts: Counter = Counter()
    for message in messages:
        counts.update(set(_LESION_LINK.findall(message)))
    return Counter({int(k): v for k, v in counts.items()})


def mail_messages(folder: Path) -> list[str]:
    """Messages written by Django's file-based email backend (several per file, dash-separated)."""
    messages: list[str] = []
    for path in sorted(folder.glob("*.log")):
        messages.extend(m for m in path.read_text(errors="replace").split("-" * 79) if "Subject:" in m)
    return messages


_COMPLETED_RUN = re.compile(r"analyze_photo\[[^\]]+\] succeeded in [\d.]+s: '(?:done|failed|not_assessable)'")


def completed_runs(worker_log: str) -> int:
    """Runs of the analysis task that finished an analysis (a skipped duplicate delivery returns None)."""
    return len(_COMPLETED_RUN.findall(worker_log))


def account(traffic: Traffic, photos: dict[int, dict], emails: Counter, *, runs: int) -> dict:
    """The numbers the fault report gives for one scenario (its own lesions' photos only)."""
    photos = {pid: p for pid, p in photos.items() if p["lesion_id"] in traffic.lesions}
    lost = [pid for pid in traffic.accepted if pid not in photos or not photos[pid]["stored"]]
    attempts = Counter(a["attempts"] for p in photos.values() for a in p["analyses"])
    rows_per_photo_version = Counter((pid, a["version"]) for pid, p in photos.items() for a in p["analyses"])
    accepted_lesions = set(traffic.accepted.values())
    return {
        "requests": traffic.requests,
        "requests_failed": traffic.failed,
        "failures": dict(traffic.failures),
        "photos_accepted": len(traffic.accepted),
        "photos_lost": len(lost),
        # A request that failed after its photo was committed: the client would upload it again.
        "photos_saved_although_request_failed": len(set(photos) - set(traffic.accepted)),
        "analyses_unfinished": len(unfinished(photos)),
        "analyses_by_status": dict(Counter(a["status"] for p in photos.values() for a in p["analyses"])),
        # An attempt count of 2 is a run cut short by the fault and taken over later, not a duplicate.
        "attempts_histogram": {str(k): v for k, v in sorted(attempts.items())},
        "analysis_runs_completed": runs,
        # Runs that finished an analysis another run had already finished (the worker's log).
        "duplicate_analysis_runs": max(runs - len([p for p in photos.values() if p["analyses"]]), 0),
        "duplicate_analysis_rows": sum(1 for c in rows_per_photo_version.values() if c > 1),
        "emails": sum(emails[lesion] for lesion in accepted_lesions),
        "duplicate_emails": sum(emails[lesion] - 1 for lesion in accepted_lesions if emails[lesion] > 1),
    }
