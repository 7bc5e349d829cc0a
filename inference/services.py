"""Running the CNN on photos: requesting, running and sweeping analyses.

The database is the source of truth and the queue only a hint. Every analysis row says where it
is (pending, running, done, failed, or not_assessable when the photo is not something the model
can score: not a lesion, too dark, too blurry); a lost message or a dead worker leaves a row that
the periodic sweep finds and queues again, and a photo that keeps crashing workers ends as `failed`
with a reason instead of looping forever.
"""

import functools
import logging
import time
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from celery import current_app
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from PIL import Image, UnidentifiedImageError

from inference import advice, keypoints, measuring
from inference.models import AnalysedPhoto, Analysis, WorkerHeartbeat, analysed_photo, photo_model
from inference.signals import analysis_finished
from measurement.thresholds import load_thresholds
from training.contract import CARD_FILE, CLASSES, CardError, ModelCard, read_card

if TYPE_CHECKING:
    from inference.engine import Classifier, Context  # type hints only: the web process never loads TensorFlow

logger = logging.getLogger(__name__)

MODEL_MISSING_VERSION = "no-model-installed"


class RetryableAnalysisError(Exception):
    """Worth another try later (a glitch, not the photo's fault)."""


@lru_cache(maxsize=8)
def _cached_card(model_dir: str, mtime: float) -> ModelCard:
    return read_card(model_dir)


def installed_model_card() -> ModelCard | None:
    """The installed model's checked card (cheap, cached until the file changes); None when unreadable."""
    model_dir = Path(settings.MODEL_DIR)
    try:
        return _cached_card(str(model_dir), (model_dir / CARD_FILE).stat().st_mtime)
    except (OSError, CardError) as exc:
        logger.error("No readable model card in %s: %s", model_dir, exc)
        return None


def current_model_version() -> str:
    """The version of the installed model, read from its card (cheap: no TensorFlow)."""
    card = installed_model_card()
    return card["version"] if card else MODEL_MISSING_VERSION


ANALYZE_PHOTO_TASK = "inference.tasks.analyze_photo"


def _queue(task_name: str, *args: object, what: str) -> None:
    # By name: inference.tasks calls this module, so this module does not import it back.
    try:
        current_app.signature(task_name, args=args).delay()
    except KombuOperationalError as exc:
        # The row is committed (pending, or marked as measuring again): the sweep queues it once the broker
        # is back. Raising here would answer 500 for a change that was saved, and the patient would redo it.
        logger.warning("Could not queue %s (%s); the sweep will queue it", what, exc)


def _send(photo_id: int, model_version: str) -> None:
    _queue(ANALYZE_PHOTO_TASK, photo_id, model_version, what=f"the analysis of photo {photo_id}")


def _enqueue(photo_id: int, model_version: str) -> None:
    transaction.on_commit(lambda: _send(photo_id, model_version))


def analysis_announce(analysis: Analysis) -> None:
    """Tell the apps that subscribe (the patient's and the physicians' emails) that `analysis` ended.

    `first_result` is False when the photo already had a done analysis: a photo analysed again by
    a new model version is not news.
    """
    first_result = not analysis.photo.analyses.filter(status=Analysis.Status.DONE).exclude(pk=analysis.pk).exists()
    analysis_finished.send(sender=Analysis, analysis=analysis, first_result=first_result)


def analysis_request(*, photo: AnalysedPhoto, model_version: str | None = None) -> Analysis:
    """Make sure `photo` has an analysis by `model_version` (default: the installed model).

    Idempotent: an existing done or running analysis is returned as it is; a failed one is
    reset and queued again. The task is queued only when the surrounding transaction commits,
    so a worker never looks for a row that is not there yet.
    """
    version = model_version or current_model_version()
    analysis, created = Analysis.objects.get_or_create(
        photo=photo, model_version=version, defaults={"queued_at": timezone.now()}
    )
    if not created and analysis.status == Analysis.Status.FAILED:
        analysis.status = Analysis.Status.PENDING
        analysis.error = ""
        analysis.attempts = 0
        analysis.queued_at = timezone.now()
        analysis.save(update_fields=["status", "error", "attempts", "queued_at"])
    if analysis.status == Analysis.Status.PENDING:
        _enqueue(photo.pk, version)
    return analysis


def analysis_rerun(*, photo: AnalysedPhoto) -> Analysis:
    """Analyse `photo` again with the installed model, e.g. after the patient corrected its photo type.

    One row per photo and model version: the current model's row is reset to pending (its old
    probabilities and heatmap go, they answered another question) and queued after commit.
    Analyses by earlier model versions are left as they are.
    """
    version = current_model_version()
    with transaction.atomic():
        analysis, created = Analysis.objects.select_for_update().get_or_create(
            photo=photo, model_version=version, defaults={"queued_at": timezone.now()}
        )
        if not created:
            if analysis.heatmap:
                analysis.heatmap.delete(save=False)
            for code in CLASSES:
                setattr(analysis, f"p_{code}", None)
            analysis.predicted_class = ""
            analysis.malignant_probability = None
            analysis.inputs = None
            analysis.status = Analysis.Status.PENDING
            analysis.error = ""
            analysis.attempts = 0
            analysis.queued_at = timezone.now()
            analysis.started_at = None
            analysis.finished_at = None
            # It measures the size itself, with the photo's hints as they are then: nothing to measure again.
            analysis.size_queued_at = None
            analysis.size_error = ""
            analysis.save()
        _enqueue(photo.pk, version)
    return analysis


def _finish_without_result(analysis: Analysis, status: str, reason: str) -> Analysis:
    """End an analysis with a reason the patient can read instead of probabilities."""
    analysis.status = status
    analysis.error = reason
    analysis.finished_at = timezone.now()
    analysis.save(update_fields=["status", "error", "finished_at"])
    logger.log(
        logging.WARNING if status == Analysis.Status.FAILED else logging.INFO,
        "Analysis %s ended %s: %s",
        analysis.pk,
        status,
        reason,
    )
    analysis_announce(analysis)
    return analysis


def _fail(analysis: Analysis, reason: str) -> Analysis:
    return _finish_without_result(analysis, Analysis.Status.FAILED, reason)


def _stale(since: datetime | None) -> bool:
    return since is None or since < timezone.now() - timedelta(seconds=settings.ANALYSIS_STALE_SECONDS)


def _claim(photo_id: int, model_version: str) -> Analysis | None:
    """Mark the analysis running and count the attempt; None if there is nothing to do."""
    with transaction.atomic():
        photo = photo_model()._default_manager.filter(pk=photo_id).first()
        if photo is None:
            return None  # deleted since it was queued: nothing to analyse, nothing lost
        analysis, _ = Analysis.objects.get_or_create(
            photo=photo, model_version=model_version, defaults={"queued_at": timezone.now()}
        )
        analysis = Analysis.objects.select_for_update().select_related("photo").get(pk=analysis.pk)
        if analysis.is_finished:
            return None  # a redelivered or duplicate message: the work is already finished
        if analysis.status == Analysis.Status.RUNNING and not _stale(analysis.started_at):
            # Another delivery is running it now; only a row left running too long (its worker
            # died) is taken over, so one photo is never analysed, counted or emailed twice.
            return None
        if analysis.attempts >= settings.ANALYSIS_MAX_ATTEMPTS:
            _fail(
                analysis,
                f"The analysis stopped {analysis.attempts} times before it could finish. "
                "Your photo is kept; try again later or upload another photo.",
            )
            return None
        analysis.status = Analysis.Status.RUNNING
        analysis.attempts += 1
        analysis.started_at = timezone.now()
        analysis.save(update_fields=["status", "attempts", "started_at"])
        return analysis


def _not_assessable(analysis: Analysis, reason: str) -> Analysis:
    """Finish without probabilities: seven confident numbers for a landscape would mislead."""
    return _finish_without_result(analysis, Analysis.Status.NOT_ASSESSABLE, reason)


def _assessable(image: Image.Image, classifier: "Classifier") -> str:
    """Empty if the model may score `image`, else the reason it may not: the pixel checks of
    inference.quality, before the CNN runs (a model with feature checks judges "unlike a lesion"
    itself, in `Prediction.refusal`)."""
    try:
        assessment = classifier.assessment(image)
    except (OSError, ValueError, KeyError):
        # Missing or stale statistics must not stop analyses: score the photo as before.
        logger.exception("The photo quality checks could not run; analysing anyway")
        return ""
    return "" if assessment.ok else assessment.reason


def analysis_context(photo: AnalysedPhoto) -> "Context":
    """What the model may know besides the photo: the lesion's body site, the patient's age then and sex.

    Age and sex are optional on the account; whatever is missing stays None.
    """
    from inference.engine import Context

    lesion = photo.lesion
    owner = lesion.owner
    return Context(
        age=owner.age_on(photo.taken_at.date()),
        sex=owner.sex or None,
        site=lesion.body_site if lesion.body_site != "unknown" else None,
        photo_type=photo.photo_type or None,
    )


def _heatmap_jpeg(classifier: "Classifier", image: Image.Image, context: "Context", class_name: str) -> bytes | None:
    """The Grad-CAM overlay for the predicted class, or None: a heatmap is worth no failed analysis."""
    from inference import heatmap

    try:
        return heatmap.overlay_jpeg(image, classifier.heatmap(image, context, class_name))
    except Exception:
        logger.exception("No heatmap for this photo")
        return None


def _load_photo(photo: AnalysedPhoto) -> Image.Image:
    # A 12 MP phone JPEG is decoded at 1/2..1/8 scale (still larger than the model needs), not in full.
    from training.contract import open_image

    try:
        with photo.image.open("rb") as fh:
            return open_image(fh)
    except FileNotFoundError:
        raise ValueError("The photo file is missing from storage.") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"The stored photo could not be read ({exc}).") from None


# A coin, card or ruler is found on the photo decoded at least this many pixels on its short side
# (a 12 MP JPEG at a half, not the eighth the model needs): the reference's edge is its precision.
SCALE_SIDE = 1024


def _load_scale_image(photo: AnalysedPhoto) -> Image.Image:
    """The photo decoded for finding its scale (SCALE_SIDE), upright as stored."""
    from training.contract import open_image

    try:
        with photo.image.open("rb") as fh:
            return open_image(fh, size=SCALE_SIDE)
    except FileNotFoundError:
        raise ValueError("The photo file is missing from storage.") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"The stored photo could not be read ({exc}).") from None


def _size_of(photo: AnalysedPhoto, measures: dict | None) -> dict:
    """`measuring.photo_size` of a stored photo with its current hints; never raises."""
    try:
        image = _load_scale_image(photo)
    except ValueError:
        return measuring.photo_size_refused(measuring.SIZE_ERROR)
    return measuring.photo_size(image, measures, scale_hints(photo, image))


def _measures_and_size(photo: AnalysedPhoto, image: Image.Image) -> dict:
    """The outline and measures on `image` (the photo as the model saw it) and the size in mm, with the
    photo's current scale hints; never raises (a file that cannot be read again gives no size)."""
    try:
        scale_image = _load_scale_image(photo)
    except ValueError:
        return measuring.photo_measures(image) | {"size": measuring.photo_size_refused(measuring.SIZE_ERROR)}
    hints = scale_hints(photo, scale_image)
    measures, found = measuring.photo_measures_beside_reference(image, scale_image, hints)
    measures["size"] = measuring.photo_size(scale_image, measures, hints, found=found)
    return measures


def _earlier_side(photo: AnalysedPhoto, model_version: str) -> measuring.MeasuredPhoto:
    """An earlier photo's measures, probability (same model version only) and keypoints."""
    done = photo.analyses.filter(status=Analysis.Status.DONE)
    prior = done.filter(model_version=model_version).first() or done.first()
    image = _load_photo(photo)
    measures = prior.measures if prior is not None else None
    if measures is None:  # analysed before measuring existed: measure it now, for this comparison
        measures = measuring.photo_measures(image)
    if "size" not in measures:  # analysed before sizes in mm: measure it now, for this comparison
        measures = measures | {"size": _size_of(photo, measures)}
    # Probabilities of two model versions are not on one scale: compare only like with like.
    probability = prior.malignant_probability if prior is not None and prior.model_version == model_version else None
    return measuring.MeasuredPhoto(
        photo_id=photo.pk,
        taken_on=photo.taken_at.date(),
        measures=measures,
        malignant_probability=probability,
        features=keypoints.photo_features_cached(photo, image),
    )


def _lesion_change(analysis: Analysis, image: Image.Image) -> dict | None:
    """What changed since the previous photo and since the first one (None: this is the first photo).

    A change is called only beyond the thresholds of measurement/thresholds.json (measured on
    same-lesion HAM10000 pairs, reports/change_detection.md).
    """
    photo = analysis.photo
    # A photo this model refused as not assessable (a screenshot, too dark) is no result: no measures
    # or probability worth comparing with. One still being analysed (uploaded together) is measured
    # here, as before.
    refused = Analysis.objects.filter(status=Analysis.Status.NOT_ASSESSABLE, model_version=analysis.model_version)
    rows = (
        photo_model()
        ._default_manager.filter(lesion_id=photo.lesion_id)
        .filter(Q(taken_at__lt=photo.taken_at) | Q(taken_at=photo.taken_at, pk__lt=photo.pk))
        .exclude(pk__in=refused.values("photo_id"))
        .order_by("taken_at", "id")
    )
    earlier = [analysed_photo(row) for row in rows]
    if not earlier:
        return None
    started = time.perf_counter()
    thresholds = load_thresholds()
    later = measuring.MeasuredPhoto(
        photo_id=photo.pk,
        taken_on=photo.taken_at.date(),
        measures=analysis.measures,
        malignant_probability=analysis.malignant_probability,
        features=keypoints.photo_features_cached(photo, image),
    )
    chosen = [("previous", earlier[-1])] + ([("first", earlier[0])] if len(earlier) > 1 else [])
    comparisons = []
    for kind, other in chosen:
        try:
            comparisons.append(
                measuring.compare_measured(_earlier_side(other, analysis.model_version), later, thresholds, kind=kind)
            )
        except ValueError as exc:  # the earlier photo's file is unreadable
            comparisons.append({"kind": kind, "photo_id": other.pk, "error": str(exc), "changes": [], "sentences": []})
    sentences: list[str] = []
    for comparison in comparisons:
        sentences += [s for s in comparison["sentences"] if s not in sentences]
    return {
        "changed": bool(sentences),
        "sentences": sentences,
        "comparisons": comparisons,
        "seconds": round(time.perf_counter() - started, 3),
    }


def scale_hints(photo: AnalysedPhoto, image: Image.Image) -> measuring.ScaleHints:
    """What the photo's row says about its scale: the coin in it, the patient's marked points, the
    dermatoscope it was taken through; and its full size (`image`'s for rows from before sizes were kept)."""
    device = photo.device
    width, height = (photo.width, photo.height) if photo.width and photo.height else image.size
    manual = photo.manual_scale if isinstance(photo.manual_scale, dict) else None
    return measuring.ScaleHints(
        width=width,
        height=height,
        coin_diameter_mm=photo.coin_diameter_mm,
        manual=manual,
        device=None
        if device is None
        else measuring.DeviceHint(device.mm_per_pixel, device.relative_uncertainty, device.calibrated_width),
    )


def _fresh_photo(photo_id: int) -> AnalysedPhoto:
    # Read again when measuring: the patient may have marked a scale or picked a coin since the claim.
    return analysed_photo(photo_model()._default_manager.select_related("device").get(pk=photo_id))


def _measure_and_advise(analysis: Analysis, image: Image.Image) -> None:
    """Outline, measures and size in mm, change against earlier photos, and advice; never fails the analysis."""
    analysis.measures = _measures_and_size(_fresh_photo(analysis.photo_id), image)
    _change_and_advise(analysis, image)


def _change_and_advise(analysis: Analysis, image: Image.Image) -> None:
    """`change` against the earlier photos and the `advice` it raises, as the worker stores them."""
    try:
        analysis.change = _lesion_change(analysis, image)
    except Exception as exc:
        logger.exception("Change detection failed for analysis %s", analysis.pk)
        analysis.change = {"changed": False, "sentences": [], "comparisons": [], "error": type(exc).__name__}
    changed = bool((analysis.change or {}).get("changed"))
    analysis.advice = advice.advice_for(
        malignant_probability=analysis.malignant_probability,
        card=installed_model_card(),
        changed=changed,
        photo_type=advice.photo_type_of(analysis),  # as scored: the patient's, else the detected one
    )


def analyses_size_refresh(*, photo: AnalysedPhoto) -> list[Analysis]:
    """Measure the photo's size in mm again after its scale hints changed (a scale the patient marked,
    a coin they picked), and re-run the change detection that used it; returns the analyses rewritten.

    Runs in the worker (`size_remeasure_run`; measuring is pure, no TensorFlow, but seconds of CPU). Rewrites
    `measures` (the outline is found again as the worker finds it, beside a coin if one is said to be in the
    photo, and the size), `change` and `advice` of the photo's finished analyses, and `change` and `advice` of
    later photos' analyses that were compared with it (their stored comparisons name it), exactly as the worker
    stores them.
    An analysis still pending or running measures with the new hints itself. Raises ValueError when the
    photo's file cannot be read.
    """
    image = _load_photo(photo)
    scale_image = _load_scale_image(photo)
    hints = scale_hints(photo, scale_image)
    done = Analysis.objects.filter(status=Analysis.Status.DONE)
    rewritten = []
    # The outline too: with a coin said to be in the photo it is looked for apart from the coin.
    measures, found = measuring.photo_measures_beside_reference(image, scale_image, hints)
    measures["size"] = measuring.photo_size(scale_image, measures, hints, found=found)
    for analysis in done.filter(photo_id=photo.pk).exclude(measures=None).select_related("photo"):
        analysis.measures = dict(measures)
        _change_and_advise(analysis, image)
        analysis.save(update_fields=["measures", "change", "advice"])
        rewritten.append(analysis)
    later = (
        done.filter(photo__lesion_id=photo.lesion_id)
        .exclude(photo_id=photo.pk)
        .exclude(change=None)
        .select_related("photo")
        .order_by("photo__taken_at", "photo_id")
    )
    for analysis in later:
        compared = {c.get("photo_id") for c in (analysis.change or {}).get("comparisons") or []}
        if photo.pk not in compared:
            continue
        try:
            later_image = _load_photo(analysed_photo(analysis.photo))
        except ValueError:
            continue  # its own file is gone: its stored change stays as it was
        _change_and_advise(analysis, later_image)
        analysis.save(update_fields=["change", "advice"])
        rewritten.append(analysis)
    return rewritten


REMEASURE_SIZE_TASK = "inference.tasks.remeasure_size"
# For the patient, plainly; the log keeps the details (a storage key is no patient's business).
SIZE_NOT_MEASURED_AGAIN = "The size could not be measured again: {reason} The size shown is from before."
SIZE_PHOTO_UNREADABLE = "the stored photo could not be read."
SIZE_WENT_WRONG = "something went wrong while measuring it."
SIZE_MAX_REQUEUES = 2  # a re-measuring that vanished this often (it kills the worker?) is given up


def _send_remeasure(photo_id: int) -> None:
    _queue(REMEASURE_SIZE_TASK, photo_id, what=f"measuring photo {photo_id} again")


def _size_marked(photo_id: int) -> QuerySet[Analysis]:
    # The analyses whose size analyses_size_refresh rewrites.
    return Analysis.objects.filter(photo_id=photo_id, status=Analysis.Status.DONE).exclude(measures=None)


def size_remeasure_request(*, photo: AnalysedPhoto) -> int:
    """Have the worker measure the photo's size in mm again (`analyses_size_refresh`) after its scale hints
    changed; returns how many analyses now say their size is being measured again.

    Measuring takes seconds of CPU, so it never runs in the web process: the photo's finished analyses
    are marked (`size_queued_at`, which pages and the API show as "measuring again") and the task is
    queued once the surrounding transaction commits, so it reads the new hints. An analysis still pending
    or running measures with the new hints itself; the task finds nothing to do for it.
    """
    marked = _size_marked(photo.pk).update(size_queued_at=timezone.now(), size_error="", size_requeues=0)
    photo_id = photo.pk
    transaction.on_commit(lambda: _send_remeasure(photo_id))
    return marked


def size_remeasure_run(*, photo_id: int) -> int | None:
    """Measure one photo's size again and clear its "measuring again" marker. Called by the worker only.

    Idempotent: measuring twice with the same hints stores the same size. Only the markers this run saw
    are cleared: a scale changed while it ran has set a newer one, and the task queued then clears it.
    A photo whose file cannot be read keeps the size it had; the marker is cleared with the reason in
    `size_error`. Returns how many analyses were rewritten (None: the photo is gone).
    """
    row = photo_model()._default_manager.select_related("device").filter(pk=photo_id).first()
    if row is None:
        return None  # deleted since: nothing to measure
    seen = list(
        Analysis.objects.filter(photo_id=photo_id).exclude(size_queued_at=None).values_list("pk", "size_queued_at")
    )
    error = ""
    rewritten: list[Analysis] = []
    try:
        rewritten = analyses_size_refresh(photo=analysed_photo(row))
    except ValueError as exc:  # the stored file is missing or unreadable
        error = SIZE_NOT_MEASURED_AGAIN.format(reason=SIZE_PHOTO_UNREADABLE)
        logger.warning("Photo %s could not be measured again: %s", photo_id, exc)
    except DatabaseError:
        raise  # the task retries: the database blinked
    except Exception:
        # A bug, an odd photo or the time limit: never leave the size "measuring again" for ever (the sweep
        # would queue it again and again). The size from before stands.
        logger.exception("Photo %s could not be measured again", photo_id)
        error = SIZE_NOT_MEASURED_AGAIN.format(reason=SIZE_WENT_WRONG)
    for pk, queued_at in seen:
        Analysis.objects.filter(pk=pk, size_queued_at=queued_at).update(size_queued_at=None, size_error=error)
    return len(rewritten)


def size_remeasure_sweep(*, now: datetime | None = None) -> int:
    """Queue again the photos whose size has been "measuring again" too long (a lost message, a dead
    worker); returns how many photos. One that vanished SIZE_MAX_REQUEUES times already (a photo that
    kills the worker would otherwise be queued for ever) is given up: the marker is cleared, the size
    from before stands and `size_error` says so."""
    now = now or timezone.now()
    stale = Analysis.objects.filter(size_queued_at__lt=now - timedelta(seconds=settings.ANALYSIS_STALE_SECONDS))
    given_up = stale.filter(size_requeues__gte=SIZE_MAX_REQUEUES)
    dropped = given_up.update(size_queued_at=None, size_error=SIZE_NOT_MEASURED_AGAIN.format(reason=SIZE_WENT_WRONG))
    if dropped:
        logger.warning("Gave up measuring %d analyses again after %d re-queues", dropped, SIZE_MAX_REQUEUES)
    photo_ids = sorted(set(stale.values_list("photo_id", flat=True)))
    for photo_id in photo_ids:
        with transaction.atomic():
            Analysis.objects.filter(photo_id=photo_id).exclude(size_queued_at=None).update(
                size_queued_at=now, size_requeues=F("size_requeues") + 1
            )
            transaction.on_commit(functools.partial(_send_remeasure, photo_id))
    if photo_ids:
        logger.info("Re-queued measuring %d photos again", len(photo_ids))
    return len(photo_ids)


def analysis_run(*, photo_id: int, model_version: str | None = None) -> Analysis | None:
    """Run the CNN on one photo and store the probabilities. Called by the worker only.

    A photo the model cannot assess (see `inference.quality`) ends `not_assessable` with the
    reason in `error` and no probabilities. Raises `RetryableAnalysisError` for errors worth
    another try; records a readable reason and `failed` for everything else, or when the
    attempts are used up.
    """
    version = model_version or current_model_version()
    analysis = _claim(photo_id, version)
    if analysis is None:
        return None
    try:
        image = _load_photo(analysis.photo)
    except ValueError as exc:
        return _fail(analysis, str(exc))

    from inference.engine import ModelUnavailable, get_classifier  # TensorFlow stays in the worker

    try:
        classifier = get_classifier(settings.MODEL_DIR)
    except ModelUnavailable as exc:
        return _fail(analysis, f"The analysis model is not installed on the server ({exc}).")
    if classifier.version != analysis.model_version:
        return _fail(
            analysis,
            f"This analysis asked for model {analysis.model_version}, but the server runs "
            f"{classifier.version}. Re-run it with the current model.",
        )
    reason = _assessable(image, classifier)
    if reason:
        return _not_assessable(analysis, reason)
    context = analysis_context(analysis.photo)
    try:
        prediction = classifier.predict(image, context)
    except Exception as exc:
        logger.exception("Prediction failed for photo %s", photo_id)
        if analysis.attempts < settings.ANALYSIS_MAX_ATTEMPTS:
            Analysis.objects.filter(pk=analysis.pk).update(status=Analysis.Status.PENDING, error=str(exc))
            raise RetryableAnalysisError(str(exc)) from exc
        return _fail(analysis, f"The model could not analyse this photo ({exc}).")
    if prediction.refusal:
        return _not_assessable(analysis, prediction.refusal)

    if (
        photo_model()._default_manager.filter(pk=photo_id).values_list("photo_type", flat=True).first()
        != context.photo_type
    ):
        # The patient corrected the photo type while this ran: analysis_rerun reset the row to
        # pending and queued it again, and that run writes the result with the type they gave.
        logger.info("Photo %s changed type during its analysis; the queued re-run answers", photo_id)
        return None
    for code in CLASSES:
        setattr(analysis, f"p_{code}", float(prediction.probabilities[code]))
    analysis.predicted_class = prediction.predicted_class
    analysis.malignant_probability = float(prediction.malignant_probability)
    # Recorded with the result: the probabilities are the model's answer given exactly these.
    analysis.inputs = {
        "site": context.site,
        "age": context.age,
        "sex": context.sex,
        # As scored; what the model saw; whether the patient's word overrode it (None: no photo type).
        "photo_type": prediction.photo_type,
        "photo_type_detected": prediction.photo_type_detected,
        "photo_type_given": prediction.photo_type_given,
    }
    overlay = _heatmap_jpeg(classifier, image, context, prediction.predicted_class)
    if overlay is not None:
        analysis.heatmap.save("heatmap.jpg", ContentFile(overlay), save=False)
    _measure_and_advise(analysis, image)
    analysis.status = Analysis.Status.DONE
    analysis.error = ""
    analysis.finished_at = timezone.now()
    analysis.save()
    analysis_announce(analysis)
    return analysis


def analyses_sweep(*, now: datetime | None = None) -> int:
    """Queue again the analyses left pending or running too long; returns how many.

    A message can be lost (a broker restart) and a worker can die mid-task; either way the row
    stays behind and this finds it. Attempts are counted in `_claim`, so a photo that kills
    every worker ends up failed rather than re-queued forever.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.ANALYSIS_STALE_SECONDS)
    stale = Analysis.objects.filter(
        status=Analysis.Status.PENDING, queued_at__lt=stale_before
    ) | Analysis.objects.filter(status=Analysis.Status.RUNNING, started_at__lt=stale_before)
    count = 0
    for analysis in stale.select_related("photo"):
        with transaction.atomic():
            Analysis.objects.filter(pk=analysis.pk).update(queued_at=now)
            _enqueue(analysis.photo_id, analysis.model_version)
        count += 1
    if count:
        logger.info("Re-queued %d stale analyses", count)
    return count


def worker_heartbeat_record(*, name: str, model_version: str, now: datetime | None = None) -> None:
    """Record that worker process `name` is alive with `model_version` loaded (inference.tasks).

    Rows of processes not seen for a day are dropped on the way, so restarts leave no trail.
    """
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"model_version": model_version, "seen_at": now})
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()


def worker_with_model_seen(*, within_seconds: int, now: datetime | None = None) -> WorkerHeartbeat | None:
    """The freshest heartbeat of a worker with a model loaded, if one came within `within_seconds`."""
    now = now or timezone.now()
    return (
        WorkerHeartbeat.objects.filter(seen_at__gte=now - timedelta(seconds=within_seconds))
        .exclude(model_version=MODEL_MISSING_VERSION)
        .order_by("-seen_at")
        .first()
    )
