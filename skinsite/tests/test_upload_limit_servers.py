"""A 60 MB upload gets the same clear answer from every server that runs Skinsite: Django's
development server (`make run`), gunicorn (`make serve`) and any WSGI server that, like
wsgiref, refuses hop-by-hop headers from the application (PEP 3333)."""

import http.client
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from wsgiref.handlers import SimpleHandler

import pytest
from django.core.handlers.wsgi import WSGIHandler

from faults.silent import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
SIXTY_MB = 60 * 1024 * 1024
BOUNDARY = "skinsite-test-boundary"
PREAMBLE = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
    "Content-Type: image/jpeg\r\n\r\n"
).encode()
# (path, extra headers, status, what the answer says)
CASES = [
    ("/api/lesions/1/photos/", "Authorization: Token not-checked-before-the-limit\r\n", 400, b"the limit is 20 MB"),
    ("/lesions/1/photos/", "", 413, b"Log in to upload photos."),
]


def _request_head(path: str, headers: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {SIXTY_MB}\r\n\r\n"
    ).encode()


def _post_sixty_mb(port: int, path: str, headers: str) -> tuple[int, dict[str, str], bytes]:
    """Declare 60 MB, send the first bytes, and read the answer the server gives on the length alone."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(_request_head(path, headers) + PREAMBLE + b"\xff\xd8" + b"\0" * 65536)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        return response.status, dict(response.getheaders()), body


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not listen:\n{log.read_text()}")


@pytest.fixture(scope="module", params=["runserver", "gunicorn"])
def server_port(request, tmp_path_factory) -> Iterator[int]:
    port = free_port()
    folder = tmp_path_factory.mktemp(request.param)
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "MAX_UPLOAD_MB": "20",
        "PORT": str(port),
    }
    bindir = Path(sys.executable).parent
    command = {
        "runserver": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        "gunicorn": [str(bindir / "gunicorn"), "skinsite.wsgi:application", "--bind", f"127.0.0.1:{port}"],
    }[request.param]
    log = folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.parametrize(("path", "headers", "status", "says"), CASES)
def test_a_sixty_mb_upload_gets_the_clear_answer(server_port, path, headers, status, says):
    code, _, body = _post_sixty_mb(server_port, path, headers)
    assert code == status, body[:300]
    assert says in body


@pytest.mark.parametrize(("path", "headers", "status", "says"), CASES)
def test_the_answer_holds_no_hop_by_hop_header(path, headers, status, says, settings, db):
    """Through the WSGI handler as wsgiref's server runs it, which refuses (500) what PEP 3333 forbids."""
    settings.MAX_UPLOAD_MB = 20
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(SIXTY_MB),
        "wsgi.url_scheme": "http",
    }
    if headers:
        environ["HTTP_AUTHORIZATION"] = headers.split(": ", 1)[1].strip()
    out = io.BytesIO()
    handler = SimpleHandler(io.BytesIO(PREAMBLE), out, io.StringIO(), environ, multithread=False)
    handler.run(WSGIHandler())
    head, _, body = out.getvalue().partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == str(status).encode(), out.getvalue()[:500]
    assert says in body
