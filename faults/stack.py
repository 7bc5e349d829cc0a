"""Skinsite's production topology on loopback, with throwaway PostgreSQL and Redis of its own.

The fault suite and the load test start everything here on free ports under a temporary folder
and never touch the machine's shared PostgreSQL (5432) or Redis (6379). The app's processes run
the commands of Procfile.serve (the same as `make serve`), one process group each, so a test can
stop, restart or SIGKILL any one of them.
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from faults.silent import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent


def wait_until(condition: Callable[[], object], *, timeout: float, interval: float = 0.2, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return path


class Postgres:
    """A PostgreSQL cluster of its own (initdb + pg_ctl), trust auth on 127.0.0.1 only."""

    def __init__(self) -> None:
        self.port = free_port()
        # PostgreSQL refuses to run as root: run it as the postgres user, in a folder it owns.
        self.as_user: list[str] = []
        self.root = Path(tempfile.mkdtemp(prefix="skinsite-pg-"))
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"

    def _run(self, *args: str, timeout: float = 60) -> None:
        # No pipes: the postmaster would inherit them and keep `run` waiting for their end.
        subprocess.run(
            [*self.as_user, *args],
            check=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.root,
        )

    def init(self) -> "Postgres":
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> "Postgres":
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop("fast")
        self.start()

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, sql: str) -> str:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAc", sql],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout.strip()

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class Redis:
    """A redis-server of its own on a free loopback port, without persistence (a restart empties it)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Redis":
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.ping, timeout=20, what="redis-server")
        return self

    def ping(self) -> bool:
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "ping"], capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() == "PONG"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def procfile_commands(path: Path = BASE_DIR / "Procfile.serve") -> dict[str, str]:
    """The process types of `make serve`, exactly as its Procfile writes them."""
    commands = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = command.strip()
    return commands


class Process:
    """One process of the topology, in its own process group, with its log in a file."""

    def __init__(self, name: str, command: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {self.command}"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def children(self) -> list[int]:
        assert self.proc is not None
        pids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            pids.extend(int(pid) for pid in (task / "children").read_text().split())
        return pids

    def stop(self, timeout: float = 30) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


class Stack:
    """PostgreSQL, Redis and the app's processes (web, inference, email, beat) for one run."""

    def __init__(self, *, web_workers: int = 2, web_threads: int = 4, extra_env: dict[str, str] | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="skinsite-stack-"))
        self.media = self.root / "media"
        self.mail = self.root / "mail"
        self.logs = self.root / "logs"
        for folder in (self.media, self.mail, self.logs):
            folder.mkdir()
        self.postgres = Postgres()
        self.redis = Redis(self.root)
        self.port = free_port()
        self.web_workers = web_workers
        self.web_threads = web_threads
        self.extra_env = extra_env or {}
        self.processes: dict[str, Process] = {}
        self.base_url = f"http://127.0.0.1:{self.port}"

    def env(self, **overrides: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "CELERY_", "AWS_"))}
        return {
            **keep,
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(self.web_workers),
            "WEB_THREADS": str(self.web_threads),
            "WEB_ACCESS_LOG": str(self.logs / "access.log"),
            "SECRET_KEY": "fault-and-load-tests-only-" + "x" * 40,
            "DEBUG": "false",
            # Plain HTTP on loopback: no TLS redirect, cookies over HTTP.
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.base_url,
            "DATABASE_URL": self.postgres.url("skinsite"),
            "REDIS_URL": self.redis.url(0),
            "CACHE_URL": self.redis.url(1),
            "MEDIA_ROOT": str(self.media),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail),
            "LOG_LEVEL": "INFO",
            # "Analysis ready" emails gather what finished within 2 s (60 s by default), so a
            # scenario's emails are out before it counts them.
            "ANALYSIS_EMAIL_BATCH_SECONDS": "2",
            # Many users from one address, many uploads each: the limits are not under test here.
            "API_THROTTLE_ANON": "100000/minute",
            "API_THROTTLE_USER": "100000/minute",
            "API_THROTTLE_TOKEN": "100000/minute",
            "API_THROTTLE_REGISTER": "100000/minute",
            "API_THROTTLE_UPLOAD": "100000/hour",
            "REPORT_RATE_LIMIT_PER_MINUTE": "100000",
            "REPORT_PHOTO_RATE_LIMIT_PER_MINUTE": "100000",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **self.extra_env,
            **overrides,
        }

    def manage(self, *args: str, timeout: float = 300) -> str:
        out = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=BASE_DIR, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if out.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def probe(self, *args: str, timeout: float = 120) -> str:
        """Run faults.probe (the Django ORM, in its own process) against this stack's database."""
        out = subprocess.run(
            [PYTHON, "-m", "faults.probe", *args],
            cwd=BASE_DIR,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if out.returncode:
            raise RuntimeError(f"probe {args} failed:\n{out.stdout}\n{out.stderr}")
        return out.stdout.strip().splitlines()[-1]

    def start_services(self) -> "Stack":
        self.postgres.init().start()
        self.postgres.create_database("skinsite")
        self.redis.start()
        self.manage("migrate", "--noinput", "--verbosity", "0")
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        return self

    def start(self, *names: str, env: dict[str, str] | None = None) -> None:
        commands = procfile_commands()
        for name in names or tuple(commands):
            self.processes[name] = Process(name, commands[name], self.env(**(env or {})), self.logs).start()
        if "web" in self.processes and (not names or "web" in names):
            wait_until(self.web_ready, timeout=120, interval=0.5, what="gunicorn")
        for name in names or tuple(commands):
            if name in ("inference", "email"):
                self.wait_worker_ready(name)

    def web_ready(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/learn/", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def wait_worker_ready(self, name: str, timeout: float = 240) -> None:
        process = self.processes[name]
        wait_until(lambda: "ready." in process.log() or not process.alive(), timeout=timeout, interval=0.5, what=name)
        if not process.alive():
            raise RuntimeError(f"{name} exited:\n{process.log()[-3000:]}")
        if name == "inference":
            # The pool process loads TensorFlow and the model after the main process says ready.
            wait_until(lambda: process.children(), timeout=timeout, what="the inference pool process")

    def restart(self, name: str, env: dict[str, str] | None = None) -> None:
        self.processes[name].stop()
        self.start(name, env=env)

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.redis.stop()
        self.postgres.destroy()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
