"""Reads on lesions and photos, always scoped to the user who asks.

Every lookup takes the owner, so a view cannot forget the check: another user's lesion is
simply not found (404), which also hides whether it exists.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.fields.files import ImageFieldFile
from django.shortcuts import get_object_or_404

from accounts.models import User
from inference import advice
from inference.models import Analysis
from inference.services import current_model_version, installed_model_card
from lesions.bodymap import SITES, default_position
from lesions.models import Dermatoscope, Lesion, Photo
from training.contract import CLASS_LABELS, MALIGNANT_CLASSES

RISK_BANDS = ("low", "medium", "high")
RISK_BAND_NAMES = {"low": "low risk", "medium": "medium risk", "high": "high risk", None: "no result yet"}


def _latest_photos() -> QuerySet[Photo]:
    """Each lesion's most recently taken photo with its analyses, for one prefetch of a whole list."""
    newest = Photo.objects.filter(lesion=OuterRef("lesion")).order_by("-taken_at", "-id").values("id")[:1]
    return (
        Photo.objects.annotate(newest_of_lesion=Subquery(newest))
        .filter(id=F("newest_of_lesion"))
        .prefetch_related(Prefetch("analyses", queryset=Analysis.objects.order_by("-created_at")))
    )


def _photos_in_order() -> QuerySet[Photo]:
    return Photo.objects.order_by("taken_at", "id").prefetch_related(
        Prefetch("analyses", queryset=Analysis.objects.order_by("-created_at"))
    )


def lesions_for_user(*, user: User) -> QuerySet[Lesion]:
    """The user's lesions, newest first, with their photo counts, latest photos and all photos in order.

    A list of any length costs five queries: lesions, their latest photos and those photos' analyses
    (see `latest_analysis`), all their photos and analyses (see `lesion_assessment`), not one or two
    per lesion.
    """
    return _owned_lesions(user).prefetch_related(
        Prefetch("photos", queryset=_latest_photos(), to_attr="latest_photos"),
        Prefetch("photos", queryset=_photos_in_order(), to_attr="photos_in_order"),
    )


def _owned_lesions(user: User) -> QuerySet[Lesion]:
    return Lesion.objects.filter(owner=user).annotate(photo_count=Count("photos"))


def lesion_get(*, user: User, lesion_id: int) -> Lesion:
    return get_object_or_404(_owned_lesions(user), pk=lesion_id)


def photos_for_user(*, user: User) -> QuerySet[Photo]:
    return Photo.objects.filter(lesion__owner=user).select_related("lesion")


def photo_get(*, user: User, photo_id: int) -> Photo:
    return get_object_or_404(photos_for_user(user=user), pk=photo_id)


def current_analysis(photo: Photo, model_version: str | None = None) -> Analysis | None:
    """The analysis to show for a photo: the installed model's, else the newest one."""
    version = model_version or current_model_version()
    analyses = list(photo.analyses.all())  # prefetched by the callers below
    for analysis in analyses:
        if analysis.model_version == version:
            return analysis
    return max(analyses, key=lambda a: a.created_at, default=None)


def heatmap_file(photo: Photo) -> ImageFieldFile | None:
    """The current analysis's heatmap file, or None while there is none to show."""
    analysis = current_analysis(photo)
    if analysis is None or analysis.status != Analysis.Status.DONE or not analysis.heatmap:
        return None
    return analysis.heatmap


@dataclass(frozen=True)
class TimelineEntry:
    photo: Photo
    analysis: Analysis | None


def assessable_photos(photos: QuerySet[Photo]) -> QuerySet[Photo]:
    """`photos` without those whose newest analysis refused them as not assessable: those are kept,
    marked, on the patient's timeline, but are no result (no chart point, compare default, report)."""
    newest = Analysis.objects.filter(photo=OuterRef("pk")).order_by("-created_at", "-id").values("status")[:1]
    return photos.alias(newest_status=Subquery(newest)).exclude(newest_status=Analysis.Status.NOT_ASSESSABLE)


def lesion_history(*, lesion: Lesion) -> list[TimelineEntry]:
    """The lesion's photos in the order they were taken, each with its current analysis."""
    version = current_model_version()
    photos = lesion.photos.order_by("taken_at", "id").prefetch_related(
        Prefetch("analyses", queryset=Analysis.objects.order_by("-created_at"))
    )
    return [TimelineEntry(photo=p, analysis=current_analysis(p, version)) for p in photos]


def assessable_analyses(history: list[TimelineEntry]) -> list[Analysis]:
    """The finished, assessable analyses of a lesion's history, oldest first, of one model version
    (the latest one's: two versions' probabilities are not on one scale). Not-assessable photos,
    failed or pending analyses are no result and are left out."""
    done = [e.analysis for e in history if e.analysis is not None and e.analysis.status == Analysis.Status.DONE]
    if not done:
        return []
    version = done[-1].model_version
    return [a for a in done if a.model_version == version and a.malignant_probability is not None]


def lesion_assessment(*, lesion: Lesion, history: list[TimelineEntry] | None = None) -> dict[str, Any] | None:
    """The lesion's answer (`inference.advice.lesion_advice`) from its recent assessable photos, or
    None while it has none; `history` when the caller has it already (else read, or prefetched by
    `lesions_for_user`).

    Besides the advice: `photo_id` and `taken_at` of the photo the answer rests on (the highest
    malignant probability among its photos) and `most_likely_malignant`, that photo's most likely
    malignant type (code, label, probability), which a "high" answer names beside the most likely type.
    """
    if history is None:
        if hasattr(lesion, "photos_in_order"):
            version = current_model_version()
            history = [TimelineEntry(photo=p, analysis=current_analysis(p, version)) for p in lesion.photos_in_order]
        else:
            history = lesion_history(lesion=lesion)
    analyses = assessable_analyses(history)
    answer = advice.lesion_advice(analyses=analyses, card=installed_model_card())
    if answer is None:
        return None
    window = analyses[-answer["photos"] :]
    resting_on = max(window, key=lambda a: a.malignant_probability or 0.0)
    code = max(MALIGNANT_CLASSES, key=lambda c: getattr(resting_on, f"p_{c}") or 0.0)
    return answer | {
        "photo_id": resting_on.photo_id,
        "most_likely_malignant": {
            "code": code,
            "label": CLASS_LABELS[code],
            "probability": getattr(resting_on, f"p_{code}"),
        },
    }


def latest_analysis(*, lesion: Lesion) -> Analysis | None:
    """The current analysis of the lesion's most recently taken photo."""
    if hasattr(lesion, "latest_photos"):  # prefetched by lesions_for_user
        return current_analysis(lesion.latest_photos[0]) if lesion.latest_photos else None
    photo = (
        lesion.photos.order_by("-taken_at", "-id")
        .prefetch_related(Prefetch("analyses", queryset=Analysis.objects.order_by("-created_at")))
        .first()
    )
    return current_analysis(photo) if photo else None


def risk_band(analysis: Analysis | None) -> str | None:
    """The advice's risk band ("low", "medium", "high") of an analysis, or None when it has none.

    Read defensively: analyses made before advice existed (or an `advice` that is not a mapping)
    have no band, and the dashboard shows them grey.
    """
    advice = getattr(analysis, "advice", None)
    band = advice.get("band") if isinstance(advice, dict) else None
    return band if band in RISK_BANDS else None


@dataclass(frozen=True)
class BodyMapDot:
    lesion: Lesion
    view: str
    x: float
    y: float
    band: str | None
    due: bool

    @property
    def label(self) -> str:
        """The dot's accessible name: what it is, its risk band, and whether a photo is due."""
        due = ", due for a photo" if self.due else ""
        return f"{self.lesion.name} ({self.lesion.get_body_site_display()}): {RISK_BAND_NAMES[self.band]}{due}"


def body_map_dots(
    *, rows: list[tuple[Lesion, Analysis | None]], due_ids: set[int], bands: dict[int, str | None] | None = None
) -> list[BodyMapDot]:
    """One dot per placed lesion, for the dashboard's body map; no query of its own.

    `rows` are (lesion, latest analysis); `due_ids` the lesions due for a photo (lesions.reminders);
    `bands` the lesions' bands by id (`lesion_assessment`), else the latest analysis's.
    A lesion saved before the body map existed sits at its site's centre; "unknown" has no dot.
    """
    dots = []
    for lesion, analysis in rows:
        position: tuple[str, float, float] | None
        if lesion.map_view and lesion.map_x is not None and lesion.map_y is not None:
            position = (lesion.map_view, lesion.map_x, lesion.map_y)
        else:
            position = default_position(lesion.body_site) if lesion.body_site in SITES else None
        if position is None:
            continue
        view, x, y = position
        band = bands.get(lesion.pk) if bands is not None else risk_band(analysis)
        dots.append(BodyMapDot(lesion=lesion, view=view, x=x, y=y, band=band, due=lesion.pk in due_ids))
    return dots


def analysis_size(analysis: Analysis | None) -> dict[str, Any] | None:
    """The lesion's size in mm on a finished analysis (inference.measuring.photo_size), or None when
    none was measured (not finished, or made before sizes existed). `ok` False says why there is none."""
    if analysis is None or analysis.status != Analysis.Status.DONE:
        return None
    size = (analysis.measures or {}).get("size")
    return size if isinstance(size, dict) else None


def lesion_size_history(lesion: Lesion, *, history: list[TimelineEntry] | None = None) -> list[dict[str, Any]]:
    """The lesion's long diameter in mm over time, for its chart: one row per photo with a size, oldest
    first: {"photo_id", "taken_on", "long_mm", "long_mm_error", "short_mm", "short_mm_error", "area_mm2",
    "area_mm2_error", "wider_than_6mm", "source"}. `history` when the caller has it (`lesion_history`)."""
    rows = []
    for entry in history if history is not None else lesion_history(lesion=lesion):
        size = analysis_size(entry.analysis)
        if not size or not size.get("ok"):
            continue
        rows.append(
            {
                "photo_id": entry.photo.pk,
                "taken_on": entry.photo.taken_at.date(),
                **{key: size.get(key) for key in _SIZE_FIGURES},
                "source": (size.get("scale") or {}).get("source"),
            }
        )
    return rows


_SIZE_FIGURES = (
    "long_mm",
    "long_mm_error",
    "short_mm",
    "short_mm_error",
    "area_mm2",
    "area_mm2_error",
    "wider_than_6mm",
)


def dermatoscopes_for_user(*, user: User) -> QuerySet[Dermatoscope]:
    """The user's calibrated dermatoscopes, by name, each with `photos_measuring`: how many photos taken
    with it are having their size measured again (after it was set up again), as the worker has not yet
    finished them."""
    measuring = Q(photos__analyses__size_queued_at__isnull=False)
    return (
        Dermatoscope.objects.filter(owner=user)
        .annotate(photos_measuring=Count("photos", filter=measuring, distinct=True))
        .order_by("name", "id")
    )


def dermatoscope_photos_measuring(*, dermatoscope: Dermatoscope) -> int:
    """How many photos taken with `dermatoscope` are having their size measured again now."""
    return Photo.objects.filter(device=dermatoscope, analyses__size_queued_at__isnull=False).distinct().count()


def dermatoscope_get(*, user: User, dermatoscope_id: int) -> Dermatoscope:
    return get_object_or_404(dermatoscopes_for_user(user=user), pk=dermatoscope_id)
