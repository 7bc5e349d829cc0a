"""Emails and analyses go to queues of their own, so a hung mail server cannot hold up analyses."""

from django.conf import settings

from skinsite.celery import app


def _registered() -> set[str]:
    app.loader.import_default_modules()  # autodiscovery, as a worker does at start
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_routed_name_is_a_registered_task():
    # A task moved to another module keeps working but silently lands on the default queue:
    # this fails until its new name is written in settings.EMAIL_TASK_NAMES / INFERENCE_TASK_NAMES.
    missing = set(settings.CELERY_TASK_ROUTES) - _registered()
    assert not missing, f"routed names that are no task: {sorted(missing)}"


def test_tasks_that_send_mail_go_to_the_email_queue_with_time_limits():
    sends_mail = {n for n in _registered() if n.rsplit(".", 1)[-1].endswith("_email") or n.endswith("_digest")}
    assert sends_mail, "no email task found"
    for name in sends_mail:
        assert app.amqp.router.route({}, name)["queue"].name == "email", name
        task = app.tasks[name]
        assert 0 < task.soft_time_limit < task.time_limit, name


def test_analyses_go_to_the_inference_queue_and_housekeeping_to_default():
    router = app.amqp.router
    analyze = next(n for n in _registered() if n.endswith(".analyze_photo"))
    sweep = next(n for n in _registered() if n.endswith(".sweep_stale_analyses"))
    assert router.route({}, analyze)["queue"].name == "inference"
    assert router.route({}, sweep)["queue"].name == "default"


def test_mail_server_calls_time_out():
    assert 0 < settings.EMAIL_TIMEOUT <= settings.EMAIL_TASK_SOFT_TIME_LIMIT
