# Skinsite: `make run` to use it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HAM10000_DIR ?= ../shared/data/ham10000
DATA_DIR ?= ../shared/data
MODEL_OUT ?= inference/model
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help venv migrate run serve worker test faults load lint format train evaluate bench size clean backup restore

help:
	@echo "make run       set up everything and serve http://127.0.0.1:$(PORT) with a worker"
	@echo "make serve     production topology: gunicorn, inference and email workers, beat (DATABASE_URL, REDIS_URL, S3)"
	@echo "make test      run the test suite"
	@echo "make faults    fault suite: Redis/PostgreSQL restarts, killed worker, hung SMTP → reports/faults.md"
	@echo "make load      bounded Locust load test against make serve → reports/load.md"
	@echo "make worker    run only a Celery worker (for more workers or a separate web server)"
	@echo "make backup    one dated archive of the database and every stored file in BACKUP_DIR (var/backups)"
	@echo "make restore   ARCHIVE=var/backups/skinsite-backup-....tar [FORCE=1]: into an empty database and storage"
	@echo "make lint      ruff check + format check + mypy"
	@echo "make train     fine-tune on HAM10000 + the external sets, export to MODEL_OUT=$(MODEL_OUT)"
	@echo "make evaluate  evaluate the installed model on the held-out test split"
	@echo "make size      size in mm: coin/card/ruler scenes and real photos → reports/size.md, growth threshold (DATA_DIR=$(DATA_DIR))"

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-train.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

# Web + worker (with the periodic sweep) in one terminal; Ctrl-C or SIGTERM stops both. Honcho
# gives each process its own PORT; WEB_PORT tells the worker the web's, for the links in emails.
# PROMETHEUS_MULTIPROC_DIR: every process of this run counts its metrics into one fresh folder,
# and /metrics adds them up (skinsite.metrics).
run: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	rm -rf var/metrics-run && mkdir -p var/metrics-run
	WEB_PORT=$(PORT) PROMETHEUS_MULTIPROC_DIR=$(abspath var/metrics-run) $(VENV)/bin/honcho start --procfile Procfile.dev --port $(PORT)

# The production topology on one machine: gunicorn (WEB_CONCURRENCY processes), a worker for the
# inference and default queues, one for the email queue, and beat. Uses DATABASE_URL, REDIS_URL
# and S3 (AWS_STORAGE_BUCKET_NAME) when set, like every other command.
serve: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	rm -rf var/metrics-serve && mkdir -p var/metrics-serve
	PROMETHEUS_MULTIPROC_DIR=$(abspath var/metrics-serve) $(VENV)/bin/honcho start --procfile Procfile.serve --port $(PORT)

worker: venv
	$(VENV)/bin/celery -A skinsite worker -Q default,inference,email --concurrency $${WORKER_CONCURRENCY:-1} --loglevel INFO

# One archive (database dump, every stored photo and heatmap, manifest) in BACKUP_DIR; needs no
# migrate, so it works as the first command on a fresh clone.
backup: venv
	$(PY) manage.py backup

# Into an empty database and storage (refused otherwise unless FORCE=1), then migrate, so an
# archive of an older release is brought up to this one.
restore: venv
	@test -n "$(ARCHIVE)" || { echo "usage: make restore ARCHIVE=var/backups/skinsite-backup-....tar [FORCE=1]"; exit 2; }
	$(PY) manage.py restore $(if $(filter 1 yes true,$(FORCE)),--force) "$(ARCHIVE)"
	$(PY) manage.py migrate --noinput

# The tests' worker gets its own broker folder, so a `make run` worker never takes their messages.
test: venv
	CELERY_FILESYSTEM_DIR=var/test-broker $(PY) -m pytest

# Starts its own PostgreSQL, Redis, web processes and workers on free loopback ports (never the
# machine's shared ones), breaks them one at a time and writes reports/faults.md and .json.
faults: venv
	$(PY) -m pytest -m faults -p no:cacheprovider faults/

# LOAD_USERS clients for LOAD_SECONDS against `make serve`'s processes on their own PostgreSQL and
# Redis (started like the fault suite's) → reports/load.md and .json.
LOAD_USERS ?= 50
LOAD_SECONDS ?= 60
load: venv
	$(PY) -m loadtest.run --users $(LOAD_USERS) --seconds $(LOAD_SECONDS) --out reports

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Multi-source fine-tuning from the served model's CNN (about an hour on 2 CPU cores), then the
# photo-type detector, the fusion, export (float16 TFLite weights, as served), card and the not-assessable
# feature checks. The HAM10000-only recipe: python -m training.train ham10000.
VERSION ?= multisource-lite0-$(shell date +%Y%m%d)
train: venv
	$(PY) -m training.train sources --init-from $(MODEL_OUT) --out $(MODEL_OUT) --version $(VERSION) --tflite-float16

# Our model on the held-out test split, the sklesion reference on the same split (if installed),
# the served model source by source (reports/external.md), then the not-assessable checks per set
# (reports/not_assessable.md, copied into the model card; a missed target is reported, not fatal).
evaluate: venv
	$(PY) -m training.evaluate --data $(HAM10000_DIR) --images $(HAM10000_DIR)_320 --model $(MODEL_OUT) --out reports
	$(PY) -m training.reference --data $(HAM10000_DIR) --out reports
	$(PY) -m evaluation.external --model-dir $(MODEL_OUT) --out reports
	-$(PY) -m evaluation.not_assessable --data $(HAM10000_DIR) --out reports --model-dir $(MODEL_OUT) --card $(MODEL_OUT)/model_card.json

clean:
	rm -rf var/broker var/test-skinsite.sqlite3 .pytest_cache

# Size in millimetres (issue 22): synthetic photos of known size with a coin, card or ruler built from the
# real photos in DATA_DIR, real photos without a reference, HAM10000 lesions photographed twice with a ruler
# → reports/size.md and .json, and the long diameter's growth threshold in measurement/thresholds.json.
# Seed 2: the detector and its uncertainty were tuned on the scenes of seeds 0 and 1.
SIZE_SEED ?= 2
size: venv
	$(PY) -m evaluation.size_study --data $(DATA_DIR) --out reports --seed $(SIZE_SEED)

# Latency, throughput, load time and memory of the served model (and TFLite, sklesion) → reports/bench.json.
bench: venv
	$(PY) -m evaluation.bench
