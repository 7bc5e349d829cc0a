"""Skinsite settings.

Every knob comes from the environment (see the configuration table in README.md). The defaults
are the embedded set-up: SQLite, media on the local disk and a Celery broker on the file system,
so `make run` works on a machine with nothing but Python installed. `DATABASE_URL`, `REDIS_URL`
and `AWS_STORAGE_BUCKET_NAME` switch to PostgreSQL, Redis and S3 for a real deployment.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
# Made here, by whatever starts first: on a fresh clone with every service named in the environment
# (`make load`, production) nothing else would, and celery beat's schedule lives in it.
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
# A local .env file is optional; real deployments set the environment directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Keys that were ever in this repository, or Django's startproject placeholder: public, so useless.
_PUBLIC_SECRET_KEYS = {"insecure-local-only-key-set-SECRET_KEY-in-production-0123456789"}


def _local_secret_key(path: Path) -> str:
    """The key of this install, made on first start and kept under var/ (mode 600).

    Only right for one machine: several web processes on several hosts must share SECRET_KEY.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        # O_EXCL: if two processes start at once, one writes and both then read its key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key(
    Path(env.str("SECRET_KEY_FILE", default=str(VAR_DIR / "secret_key")))
)
if not DEBUG and (
    SECRET_KEY in _PUBLIC_SECRET_KEYS or SECRET_KEY.startswith("django-insecure-") or len(SECRET_KEY) < 32
):
    raise ImproperlyConfigured(
        "SECRET_KEY is a published or short key. Set SECRET_KEY to 50 random characters "
        "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'), or unset it to use var/secret_key."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PORT = env.int("PORT", default=8000)
# Links in emails and in the API's answers. `make run` on another PORT must point at that port.
SITE_URL_SET = bool(env.str("SITE_URL", default=""))
SITE_URL = (env.str("SITE_URL", default="") or f"http://127.0.0.1:{PORT}").rstrip("/")
# Served to anyone but this machine: HTTPS by default (see "Security" below).
SITE_IS_LOCAL = urlsplit(SITE_URL).hostname in {"127.0.0.1", "localhost", "::1"}

INSTALLED_APPS = [
    "skinsite.admin.SkinsiteAdminConfig",  # django.contrib.admin, logging in through /accounts/login/
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "accounts.apps.AuthenticatorAppsConfig",  # django_otp.plugins.otp_totp, named (accounts.two_factor)
    "accounts.apps.RecoveryCodesConfig",  # django_otp.plugins.otp_static (recovery codes), named
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    "accounts",
    "lesions",
    "inference",
    "education",
    "sharing",
    "backups",  # manage.py backup / restore and the scheduled backup (beside the top: imports no app)
]

MIDDLEWARE = [
    "skinsite.requestlog.RequestIdMiddleware",  # first: every log line of the request carries its id
    "skinsite.metrics.RequestMetricsMiddleware",  # times everything below it
    "django.middleware.security.SecurityMiddleware",
    "skinsite.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): logged in with a code
    "skinsite.middleware.PrivateCacheMiddleware",  # after auth: it asks who the user is
    "skinsite.uploads.UploadLimitMiddleware",  # stops a body over MAX_UPLOAD_MB as it streams in
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "skinsite.urls"
WSGI_APPLICATION = "skinsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'skinsite.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker writes while the web process reads and writes. WAL lets readers go on during a
    # write; IMMEDIATE transactions take the write lock up front and wait for it (timeout), where
    # a read that later upgrades to a write would fail at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file, not memory, so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-skinsite.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "lesions:dashboard"
LOGOUT_REDIRECT_URL = "home"
# Brute-force limit on log-ins (accounts.lockout): failures per account and per client address
# within LOGIN_LOCKOUT_SECONDS; past either, log-in is refused for that long.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=20)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
# Password-reset emails asked for, per client address and per address asked for (DRF-style rate).
PASSWORD_RESET_THROTTLE = env.str("PASSWORD_RESET_THROTTLE", default="5/hour")
# How long the link in the sign-up confirmation email works.
EMAIL_CONFIRMATION_DAYS = env.int("EMAIL_CONFIRMATION_DAYS", default=3)
# The name authenticator apps show next to the code.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Skinsite")
# No per-device backoff from django-otp: it refuses even the right code for seconds after a typo,
# and that refusal counted as a failure. accounts.lockout limits wrong codes per account and address.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Argon2id first (parameters in accounts.hashers); the others only check older hashes, which are
# rewritten with Argon2id at the account's next successful log-in.
PASSWORD_HASHERS = [
    "accounts.hashers.SkinsiteArgon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Photos are never served from MEDIA_URL: only the authorising views hand them out.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media-not-served/"

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": "private",
            # Signature version 4: every region accepts it, and version 2 is being retired.
            "signature_version": env.str("AWS_S3_SIGNATURE_VERSION", default="s3v4"),
            # Short-lived signed URLs: a leaked link stops working within minutes.
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=300),
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
# Photos are streamed through the authorising view by default. With S3 reachable by browsers, a
# redirect to a short-lived signed URL takes that load off the web process instead.
PHOTO_SIGNED_URL_REDIRECT = env.bool("PHOTO_SIGNED_URL_REDIRECT", default=False)
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        # No manifest: pages render before (or without) collectstatic, e.g. under `make run`.
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage",
    },
}
# Serve static files from the finders when collectstatic has not been run (make run).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Uploads --------------------------------------------------------------------------------
MAX_UPLOAD_MB = env.int("MAX_UPLOAD_MB", default=20)
# Anything larger than 40 megapixels is refused before it is decoded (decompression bombs).
MAX_IMAGE_PIXELS = env.int("MAX_IMAGE_PIXELS", default=40_000_000)
# Django must accept the request so our own check can answer with a clear message.
DATA_UPLOAD_MAX_MEMORY_SIZE = (MAX_UPLOAD_MB + 1) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "skinsite.uploads.UploadLimitHandler",  # first: counts bytes before any is kept
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Email ----------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    # Debug prints mail; a plain local install writes it to var/mail, where no log shipper reads it.
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND",
        default="django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.filebased.EmailBackend",
    )
if not DEBUG and EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
    # Share, confirmation and reset links would land in the logs, readable by whoever reads those.
    raise ImproperlyConfigured("The console email backend prints sign-in links into logs: set EMAIL_URL.")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
# Seconds before an SMTP connect, read or write gives up: a hung server must not hang a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Skinsite <noreply@skinsite.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail server that accepts the connection and never answers would hold a worker forever: give
# up on a silent socket after this many seconds (the email task then retries with backoff).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    for _sub in ("queue", "control", "processed"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
else:
    # An unacknowledged message comes back after this long if its worker vanished.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        # A Redis that is down or hung must fail a publish within seconds, not hang the request
        # (the upload is already committed; the sweep queues what could not be sent).
        "socket_connect_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3.0),
        "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=3.0),
    }
# Results live in PostgreSQL rows (Analysis), not in a result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues: `inference` (the CNN, one task per process at a time), `email` (anything that talks to
# the mail server, so a slow or hung SMTP server never holds up analyses), `default` (the sweep and
# other short housekeeping). `make serve` and docker/compose.yml run one worker for `email` and one
# for `inference,default`. Tasks are routed by name: when a task moves module, update its name here
# (skinsite/tests/test_task_routes.py fails if a name below is not a registered task).
# Measuring a size again is seconds of CPU per photo, like an analysis: the same queue, one at a time.
INFERENCE_TASK_NAMES = ["inference.tasks.analyze_photo", "inference.tasks.remeasure_size"]
EMAIL_TASK_NAMES = [
    "lesions.tasks.send_share_created_email",
    "lesions.tasks.send_new_analysis_email",
    "lesions.tasks.send_analysis_finished_email",
    "lesions.tasks.send_analysis_finished_emails",
    "lesions.tasks.send_note_email",
    "lesions.tasks.send_reminder_digest",
    "lesions.tasks.send_change_alert_email",
    "sharing.tasks.send_change_alert_email",
    "accounts.tasks.send_email_confirmation",
    "accounts.tasks.send_password_reset",
    "accounts.tasks.send_sign_up_attempt_notice",
]
CELERY_TASK_ROUTES = {name: {"queue": "inference"} for name in INFERENCE_TASK_NAMES} | {
    name: {"queue": "email"} for name in EMAIL_TASK_NAMES
}
# Email tasks get time limits too: EMAIL_TIMEOUT ends a silent socket, these end anything else
# (a slow DNS lookup, TLS handshake, a template) before it ties up the email worker for good.
EMAIL_TASK_SOFT_TIME_LIMIT = env.int("EMAIL_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_ANNOTATIONS = {
    name: {"soft_time_limit": EMAIL_TASK_SOFT_TIME_LIMIT, "time_limit": EMAIL_TASK_SOFT_TIME_LIMIT + 15}
    for name in EMAIL_TASK_NAMES
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A pool process loads TensorFlow and the model before it reports ready (inference.tasks); that
# takes longer than Celery's default 4 s on a small machine.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env.int("CELERY_WORKER_PROC_ALIVE_TIMEOUT", default=120)

# --- Inference ------------------------------------------------------------------------------
MODEL_DIR = env.path("MODEL_DIR", default=BASE_DIR / "inference" / "model")
# An analysis pending or running for longer than this is re-queued by the periodic sweep.
ANALYSIS_STALE_SECONDS = env.int("ANALYSIS_STALE_SECONDS", default=600)
# After this many attempts (crashes included) an analysis is marked failed with a reason.
ANALYSIS_MAX_ATTEMPTS = env.int("ANALYSIS_MAX_ATTEMPTS", default=3)
ANALYSIS_SOFT_TIME_LIMIT = env.int("ANALYSIS_SOFT_TIME_LIMIT", default=120)
# The patient's "your analysis is ready" email waits this long, so analyses that finish together
# (several photos uploaded at once) make one email (lesions.analysis_emails).
ANALYSIS_EMAIL_BATCH_SECONDS = env.int("ANALYSIS_EMAIL_BATCH_SECONDS", default=60)
# Each worker process loads the model at start; a worker for the email queue alone need not.
INFERENCE_PRELOAD_MODEL = env.bool("INFERENCE_PRELOAD_MODEL", default=True)
# A worker with the model loaded records a heartbeat this often; /readyz wants one no older than
# READY_WORKER_MAX_AGE seconds.
WORKER_HEARTBEAT_SECONDS = env.int("WORKER_HEARTBEAT_SECONDS", default=20)
READY_WORKER_MAX_AGE = env.int("READY_WORKER_MAX_AGE", default=60)
CELERY_BEAT_SCHEDULE = {
    # One digest per patient with lesions due for a new photo, at REMINDER_HOUR local time.
    "send-recheck-reminders": {
        "task": "lesions.tasks.send_due_reminders",
        "schedule": crontab(hour=env.int("REMINDER_HOUR", default=8), minute=0),
    },
    "sweep-stale-analyses": {
        "task": "inference.tasks.sweep_stale_analyses",
        "schedule": env.int("ANALYSIS_SWEEP_INTERVAL", default=120),
    },
    # "Analysis ready" emails whose queued run was lost (lesions.analysis_emails).
    "send-overdue-analysis-emails": {
        "task": "lesions.tasks.send_overdue_analysis_emails",
        "schedule": 600,
    },
    # Remove stored files no row names (a failed delete, a failed commit), once a day.
    "reconcile-storage": {
        "task": "lesions.tasks.reconcile_storage",
        "schedule": crontab(hour=env.int("STORAGE_RECONCILE_HOUR", default=3), minute=30),
    },
    # Entries of the security and report-access logs past their retention, once a day.
    "prune-security-log": {
        "task": "accounts.tasks.prune_security_log",
        "schedule": crontab(hour=env.int("RETENTION_PRUNE_HOUR", default=4), minute=0),
    },
    "prune-report-access-log": {
        "task": "sharing.tasks.prune_report_access_log",
        "schedule": crontab(hour=env.int("RETENTION_PRUNE_HOUR", default=4), minute=10),
    },
}
# --- Backups (backups.services) --------------------------------------------------------------
# `make backup` and the scheduled backup write archives here; keep it off the database's disk.
BACKUP_DIR = env.path("BACKUP_DIR", default=VAR_DIR / "backups")
# The scheduled backup is off unless asked for: daily at BACKUP_HOUR, then pruned to the newest
# archive of each of the last BACKUP_KEEP_DAILY days and each of the last BACKUP_KEEP_WEEKLY weeks.
BACKUP_SCHEDULE = env.bool("BACKUP_SCHEDULE", default=False)
BACKUP_HOUR = env.int("BACKUP_HOUR", default=2)
BACKUP_KEEP_DAILY = env.int("BACKUP_KEEP_DAILY", default=7)
BACKUP_KEEP_WEEKLY = env.int("BACKUP_KEEP_WEEKLY", default=4)
if BACKUP_SCHEDULE:
    CELERY_BEAT_SCHEDULE["backup"] = {
        "task": "backups.tasks.backup_periodic",
        "schedule": crontab(hour=BACKUP_HOUR, minute=0),
    }
# A stored file no row names is an orphan only once it is this old (a file written by a
# transaction still in flight has no row yet).
STORAGE_ORPHAN_GRACE_HOURS = env.int("STORAGE_ORPHAN_GRACE_HOURS", default=24)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # One hashed, named, revocable token per device (accounts.tokens), sent as `Token <t>`.
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PAGINATION_CLASS": "skinsite.api.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=25),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Services' ValidationErrors answer 400 with messages by field, like serializers'.
    "EXCEPTION_HANDLER": "skinsite.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # Requests per second, minute, hour or day. The stricter scopes guard passwords (token),
    # sign-ups, storage (upload) and the heaviest request there is (export).
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="600/minute"),
        "register": env.str("API_THROTTLE_REGISTER", default="10/hour"),
        "token": env.str("API_THROTTLE_TOKEN", default="10/minute"),
        "upload": env.str("API_THROTTLE_UPLOAD", default="60/hour"),
        "export": env.str("API_THROTTLE_EXPORT", default="5/hour"),
        # Requests that have a photo measured again by the worker, or a ruler found in the web process (lesions'
        # scale and dermatoscope forms and API): they protect the worker's queue and the web processes.
        "measure": env.str("API_THROTTLE_MEASURE", default="60/hour"),
    },
    # How many proxies sit in front of the web process: with 0, clients are told apart by
    # REMOTE_ADDR and a forged X-Forwarded-For cannot dodge the anonymous limits.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Skinsite API",
    "DESCRIPTION": (
        "Follow skin lesions over time: lesions, their photos, and a CNN's analysis of each photo "
        "(seven HAM10000 class probabilities and the malignant probability). Skinsite informs; it "
        "does not diagnose.\n\nLog in with `POST /api/auth/token/`, then send `Authorization: Token "
        "<token>`. Lists are paginated (`page`, `page_size`). Another user's objects answer 404. "
        "Too many requests answer 429 with a `Retry-After` header (seconds)."
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": "/api/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # What Django's <int:…> and <slug:…> really match; anything else is not our URL at all.
    "PATH_CONVERTER_OVERRIDES": {
        "int": {"type": "integer", "minimum": 0},
        "slug": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    },
    "ENUM_NAME_OVERRIDES": {
        "AnalysisStatusEnum": "inference.models.Analysis.Status",
        "LesionClassEnum": "training.contract.CLASS_LABELS.items",
        "PhotoTypeEnum": "lesions.models.PHOTO_TYPES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "skinsite.api.add_error_responses",  # 400/401/403/404/429 where DRF can send them
    ],
    # No validator badge: Swagger UI would send the schema's address to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Throttle counts and log-in lock-outs live in the cache. The embedded default is a folder under
# var/, so a restart of `make run` forgets neither (process memory did), and the web processes and
# the worker share it. With several web processes or hosts point CACHE_URL at Redis, whose counts
# are atomic, e.g. redis://127.0.0.1:6379/1 (not the broker's database).
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache":
    # Past MAX_ENTRIES Django culls a third of the files at once, counts and locks among them.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 100_000)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The cache holds rate-limit counts and results that can be computed again: if Redis is down,
    # let requests through (fail open, logged) rather than answer 500, and give up on a dead or
    # hung Redis within a second.
    CACHES["default"]["BACKEND"] = "skinsite.cache.FailOpenRedisCache"
    _cache_timeout = env.float("CACHE_SOCKET_TIMEOUT", default=1.0)
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": _cache_timeout, "socket_timeout": _cache_timeout}
    )
# Physicians' report links (/r/<token>/): requests a minute per client address and per link.
REPORT_RATE_LIMIT_PER_MINUTE = env.int("REPORT_RATE_LIMIT_PER_MINUTE", default=30)
REPORT_PHOTO_RATE_LIMIT_PER_MINUTE = env.int("REPORT_PHOTO_RATE_LIMIT_PER_MINUTE", default=600)
# Opening a report link exchanges its token for this many minutes of report session (then the
# address bar, history and access logs hold no token); revocation and expiry still end it at once.
REPORT_SESSION_MINUTES = env.int("REPORT_SESSION_MINUTES", default=60)
# Aligned compare pictures one web process draws at once (each holds a few hundred MB while it is
# drawn); the next is answered 429 with Retry-After until one is done.
COMPARE_IMAGE_CONCURRENCY = env.int("COMPARE_IMAGE_CONCURRENCY", default=2)
# Seconds a compare picture waits for one of those slots before it is answered 429 (busy).
COMPARE_IMAGE_WAIT_SECONDS = env.float("COMPARE_IMAGE_WAIT_SECONDS", default=20.0)
# Sharing sends email in the patient's name: at most this many links, and this many different
# physicians' addresses, per account in any 24 hours.
SHARE_LINKS_PER_DAY = env.int("SHARE_LINKS_PER_DAY", default=10)
SHARE_RECIPIENTS_PER_DAY = env.int("SHARE_RECIPIENTS_PER_DAY", default=5)
# An identical share submitted again within this many seconds (a double click, a client's retry)
# gets the first link back instead of a second link and email.
SHARE_REPEAT_SECONDS = env.int("SHARE_REPEAT_SECONDS", default=60)

# --- Security -------------------------------------------------------------------------------
# HTTPS everywhere unless this is a debug run or the site is only served on this machine
# (`make run`). Each knob can still be set on its own.
HTTPS = env.bool("HTTPS", default=not DEBUG and not SITE_IS_LOCAL)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
# Only a proxy we run may say the request came over HTTPS; with none, a client could claim it.
_proxy_ssl_header = env.str(
    "SECURE_PROXY_SSL_HEADER", default="HTTP_X_FORWARDED_PROTO,https" if env.int("API_NUM_PROXIES", default=0) else ""
)
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header.split(",", 1)) if _proxy_ssl_header else None
# Medical photos: a session on a shared computer should not stay open for Django's two weeks.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Probes come over plain HTTP from the load balancer or the orchestrator: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Health, metrics and logs ---------------------------------------------------------------
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; empty: /metrics is off (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# `text` (default) or `json`: one JSON object a line, with the request id that also follows the
# request's tasks into the worker (skinsite.requestlog).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT is text or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "skinsite.requestlog.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(message)s"},  # as before; the worker's lines get Celery's own format
        "json": {"()": "skinsite.requestlog.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# With JSON, Celery must not replace the handler above with its own format: worker lines are JSON
# too and carry the request id of the web request that queued their task.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
# How long the security log (accounts.SecurityEvent) and the report-access log (sharing.ShareAccess)
# are kept; older entries are deleted every night at RETENTION_PRUNE_HOUR.
SECURITY_LOG_RETENTION_DAYS = env.int("SECURITY_LOG_RETENTION_DAYS", default=365)
REPORT_ACCESS_LOG_RETENTION_DAYS = env.int("REPORT_ACCESS_LOG_RETENTION_DAYS", default=365)
