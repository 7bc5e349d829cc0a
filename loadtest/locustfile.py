"""Locust users for `make load`: patients on the web and the API, physicians on shared reports.

Run by loadtest/run.py, which creates the accounts (LOAD_PATIENTS: a JSON list of emails) and
points Locust at the processes of `make serve`. Each patient logs in (web session and API
token), opens the dashboard and a lesion page, lists lesions over the API, and uploads one real
photo (testdata/) some time in the run, then polls the photo until its analysis has finished:
the time from upload to result is reported as its own row, `upload → analysed`.
"""

import itertools
import json
import os
import random
import re
import threading
import time
from pathlib import Path

from locust import HttpUser, between, events, task
from locust.env import Environment

PASSWORD = os.environ.get("LOAD_PASSWORD", "")
PATIENTS = json.loads(os.environ.get("LOAD_PATIENTS", "[]"))
IMAGES = sorted((Path(__file__).resolve().parent.parent / "testdata" / "ham10000").glob("*.jpg"))
UPLOAD_WITHIN = float(os.environ.get("LOAD_UPLOAD_WITHIN", "40"))  # seconds into the run
POLL_TIMEOUT = 120.0
FINISHED = {"done", "failed", "not_assessable"}

_next_patient = itertools.count()
_lock = threading.Lock()
_shares: list[str] = []  # report paths the patients created, for the physicians
UPLOADS: list[dict] = []  # every upload: photo id and, once known, the seconds to its result


def _patient_email() -> str:
    with _lock:
        return PATIENTS[next(_next_patient) % len(PATIENTS)]


class Patient(HttpUser):
    weight = 4
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.email = _patient_email()
        # The web log-in form, as a browser sends it (CSRF cookie and token).
        page = self.client.get("/accounts/login/", name="GET /accounts/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        self.client.post(
            "/accounts/login/",
            data={"username": self.email, "password": PASSWORD, "csrfmiddlewaretoken": csrf.group(1) if csrf else ""},
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="POST /accounts/login/",
        )
        # And a device token for the API, as the phone app does.
        answer = self.client.post(
            "/api/auth/token/",
            json={"email": self.email, "password": PASSWORD, "name": "locust"},
            name="POST /api/auth/token/",
        )
        self.api = {"Authorization": f"Token {answer.json().get('token', '')}"}
        lesions = self.client.get("/api/lesions/", headers=self.api, name="GET /api/lesions/").json()["results"]
        self.lesion_ids = [lesion["id"] for lesion in lesions]
        self.upload_at = time.monotonic() + random.uniform(0, UPLOAD_WITHIN)
        self.uploaded = False
        self.shared = False

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/lesions/", name="GET /lesions/ (dashboard)")
        self._maybe_upload()

    @task(3)
    def api_lesions(self) -> None:
        self.client.get("/api/lesions/", headers=self.api, name="GET /api/lesions/")
        self._maybe_upload()

    @task(2)
    def lesion_page(self) -> None:
        if self.lesion_ids:
            lesion_id = random.choice(self.lesion_ids)
            self.client.get(f"/lesions/{lesion_id}/", name="GET /lesions/<id>/")
            self.client.get(
                f"/api/lesions/{lesion_id}/history/", headers=self.api, name="GET /api/lesions/<id>/history/"
            )
        self._maybe_upload()

    def _maybe_upload(self) -> None:
        if not self.shared and self.lesion_ids:
            self.shared = True
            answer = self.client.post(
                f"/api/lesions/{self.lesion_ids[0]}/shares/",
                json={"physician_email": "dr.load@example.org", "expires_in_days": 7, "patient_name": "Load Patient"},
                headers=self.api,
                name="POST /api/lesions/<id>/shares/",
            )
            if answer.status_code == 201:
                with _lock:
                    _shares.append(re.sub(r"^https?://[^/]+", "", answer.json()["url"]))
        if self.uploaded or time.monotonic() < self.upload_at or not self.lesion_ids:
            return
        self.uploaded = True
        image = random.choice(IMAGES)
        started = time.monotonic()
        with image.open("rb") as fh:
            answer = self.client.post(
                f"/api/lesions/{random.choice(self.lesion_ids)}/photos/",
                files={"image": (image.name, fh, "image/jpeg")},
                headers=self.api,
                name="POST /api/lesions/<id>/photos/ (upload)",
            )
        if answer.status_code != 202:
            return
        record = {"photo_id": answer.json()["id"], "seconds": None, "status": "pending"}
        with _lock:
            UPLOADS.append(record)
        while time.monotonic() - started < POLL_TIMEOUT:
            time.sleep(1)
            photo = self.client.get(
                f"/api/photos/{record['photo_id']}/", headers=self.api, name="GET /api/photos/<id>/ (poll)"
            )
            status = photo.json()["analysis"]["status"] if photo.status_code == 200 else ""
            if status in FINISHED:
                record["status"] = status
                record["seconds"] = time.monotonic() - started
                events.request.fire(
                    request_type="FLOW",
                    name="upload → analysed",
                    response_time=record["seconds"] * 1000,
                    response_length=0,
                    exception=None,
                    context={},
                )
                return


class Physician(HttpUser):
    """Opens a shared report (page and photos) from a link a patient sent.

    The emailed link `/r/<token>/` is followed once: it opens a report session and redirects to
    `/report/<id>/`, which the physician then reloads (no token in any later URL).
    """

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.reports: dict[str, str] = {}  # emailed link -> the report URL it redirected to

    @task
    def open_report(self) -> None:
        with _lock:
            link = random.choice(_shares) if _shares else None
        if link is None:
            return
        if link in self.reports:
            page = self.client.get(self.reports[link], name="GET /report/<id>/ (report)")
        else:
            page = self.client.get(link, name="GET /r/<token>/ (opens the report)")
            if page.status_code == 200:
                self.reports[link] = re.sub(r"^https?://[^/]+", "", page.url)
        for image in re.findall(r'src="(/report/[^"]+/thumbnail/)"', page.text)[:4]:
            self.client.get(image, name="GET /report/<id>/photos/<id>/thumbnail/")


@events.quitting.add_listener
def _write_uploads(environment: Environment, **kwargs: object) -> None:
    out = os.environ.get("LOAD_UPLOADS_OUT")
    if out:
        Path(out).write_text(json.dumps(UPLOADS))
