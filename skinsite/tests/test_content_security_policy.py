"""A Content-Security-Policy without inline script, and templates that need none."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# The share and report pages move to the sharing app (issue 10) and get their scripts moved then.
NOT_YET = {"sharing/unsubscribe.html", "sharing/share_created.html"}


def _directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";"))}


def test_pages_send_a_policy_without_unsafe_inline_script(client, client_alice, lesion):
    for c, url in ((client, "/"), (client, "/accounts/login/"), (client_alice, f"/lesions/{lesion.pk}/")):
        policy = _directives(c.get(url))
        script = policy["script-src"]
        assert "'self'" in script and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
        assert re.search(r"'nonce-[\w-]{16,}'", script)
        assert policy["object-src"] == "object-src 'none'"
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert policy["form-action"] == "form-action 'self'"


def test_the_nonce_changes_with_every_response(client, db):
    first = _directives(client.get("/"))["script-src"]
    assert first != _directives(client.get("/"))["script-src"]


def test_the_api_docs_start_without_inline_script(client, db):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.content.decode())
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_no_template_has_inline_script_or_event_handlers():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        if name.startswith("emails/") or name in NOT_YET:
            continue  # emails run no script in any mail client
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "nonce=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{name}: {tag}")
        offenders += [f"{name}: {m}" for m in re.findall(r"<[^>]+\son[a-z]+\s*=", text)]
        offenders += [f"{name}: javascript: URL" for _ in re.findall(r"javascript:", text)]
    assert offenders == []
