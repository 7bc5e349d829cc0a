"""Reads on the education content.

The public sees published pages only. Staff who may view a model in the admin can also preview its
unpublished pages (`preview=True`), so an editor can check a page before switching it on. Nothing is
cached: an edit in the admin shows on the next request.

`installed_model()` reads the installed model's card for the "How the analysis works" page through the
model contract's one reader (`training.contract.read_card`), never the inference engine, so the web
process stays free of TensorFlow.
"""

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from education.models import Condition, ExampleImage, Guide, Resource
from inference.advice import HIGH_SPECIFICITY, MEDIUM_SENSITIVITY, operating_bands
from training.contract import CLASS_LABELS, CLASSES, MALIGNANT_CLASSES, CardError, ModelCard, metadata_used, read_card

logger = logging.getLogger(__name__)


def can_preview(user: User | AnonymousUser, model: type[Condition] | type[Guide] | type[ExampleImage]) -> bool:
    """Whether this user may see unpublished content of this kind (staff with the admin view permission)."""
    opts = model._meta
    return bool(user.is_active and user.is_staff and user.has_perm(f"{opts.app_label}.view_{opts.model_name}"))


def _with_images_and_links(queryset: QuerySet[Condition]) -> QuerySet[Condition]:
    return queryset.prefetch_related(
        Prefetch("images", queryset=ExampleImage.objects.order_by("order", "id")),
        Prefetch("resources", queryset=Resource.objects.order_by("order", "id")),
    )


def conditions_published() -> QuerySet[Condition]:
    """Published conditions in display order, with their images and links fetched in one go each."""
    return _with_images_and_links(Condition.objects.filter(published=True))


@dataclass(frozen=True)
class ConditionGroup:
    title: str
    malignant: bool
    conditions: list[Condition]


def conditions_by_group() -> list[ConditionGroup]:
    """The published conditions split into the benign and the malignant types, benign first."""
    conditions = list(conditions_published())
    return [
        ConditionGroup("Benign types", False, [c for c in conditions if not c.malignant]),
        ConditionGroup("Malignant types", True, [c for c in conditions if c.malignant]),
    ]


def condition_get(*, code: str, preview: bool = False) -> Condition:
    """One condition by its class code; 404 if it is unknown, or unpublished and not previewed."""
    queryset = Condition.objects.all() if preview else Condition.objects.filter(published=True)
    return get_object_or_404(_with_images_and_links(queryset), code=code)


def guides_published() -> QuerySet[Guide]:
    return Guide.objects.filter(published=True)


def guide_get(*, slug: str, preview: bool = False) -> Guide:
    """One guide by slug; 404 if it is unknown, or unpublished and not previewed."""
    queryset = Guide.objects.all() if preview else guides_published()
    return get_object_or_404(
        queryset.prefetch_related(Prefetch("resources", queryset=Resource.objects.order_by("order", "id"))),
        slug=slug,
    )


def general_resources() -> QuerySet[Resource]:
    """Links that belong to no condition and no guide, shown on the overview page."""
    return Resource.objects.filter(condition__isnull=True, guide__isnull=True).order_by("order", "id")


def example_image_get(*, image_id: int, preview: bool = False) -> ExampleImage:
    """An example image whose condition the caller may see; 404 otherwise."""
    queryset = ExampleImage.objects.select_related("condition")
    if not preview:
        queryset = queryset.filter(condition__published=True)
    return get_object_or_404(queryset, pk=image_id)


# --- The installed model, from its card ---------------------------------------------------------


@dataclass(frozen=True)
class ClassRecall:
    """How many of one class's test images the model put in that class."""

    code: str
    name: str
    malignant: bool
    recall: float | None
    n_images: int | None  # that class's test images, when the card records them


@dataclass(frozen=True)
class HeldOutMetrics:
    """Figures on the held-out test split; any of them may be missing from an older card."""

    n_images: int | None
    balanced_accuracy: float | None
    accuracy: float | None
    malignant_roc_auc: float | None
    malignant_sensitivity_at_80_specificity: float | None
    malignant_sensitivity_at_90_specificity: float | None
    ece_after_calibration: float | None
    malignant_ece_after_calibration: float | None
    per_class: list[ClassRecall]

    @property
    def recorded(self) -> bool:
        return self.balanced_accuracy is not None or self.malignant_roc_auc is not None


# Presentation only: the card names sources by key. Where each set comes from and what kind of
# photos it holds (see training/sources.py and ../shared/data/external/README.md).
SOURCE_NAMES = {
    "ham10000": ("HAM10000 (Vienna and Queensland)", "dermoscopy"),
    "derm7pt": ("Derm7pt (Italy)", "dermoscopy"),
    "isic2017": ("ISIC 2017 challenge (almost all benign)", "dermoscopy"),
    "ph2": ("PH2 (Portugal)", "dermoscopy"),
    "pad_ufes20": ("PAD-UFES-20 (Brazil)", "phone camera"),
}


@dataclass(frozen=True)
class SourceFigures:
    """One source's figures from the card (`metrics.validation_per_source`, `metrics.ham10000_test`)."""

    key: str
    name: str
    photo_kind: str  # "dermoscopy", "phone camera", or "" when the source is not one we know
    split: str  # "validation" or "test"
    n_images: int | None
    n_malignant: int | None
    malignant_roc_auc: float | None
    sensitivity_at_80_specificity: float | None
    sensitivity_at_90_specificity: float | None
    malignant_calibration_error: float | None
    # Share of that source's lesion photos refused as not assessable, when the card records it.
    refused: float | None
    refused_benign: float | None
    refused_malignant: float | None
    # Of that source's melanomas, and of its moles, the share whose most likely type was the right one
    # (`recall_per_class`); None where the card or the source has none.
    melanoma_recall: float | None = None
    mole_recall: float | None = None


@dataclass(frozen=True)
class PhotoKindSummary:
    """What the model gets right and wrong on one kind of photo, over that kind's sources in the card.

    Each figure is the lowest and the highest over the sources (the same twice for one source), so the
    page can say "29% to 31%" without averaging sets of very different sizes.
    """

    kind: str  # "dermoscopy" or "phone camera"
    sources: list[str]
    n_images: int
    melanoma_named: tuple[float, float] | None
    mole_named: tuple[float, float] | None
    malignant_flagged_at_90: tuple[float, float] | None  # sensitivity at 90% specificity


def _span(values: list[float | None]) -> tuple[float, float] | None:
    known = [v for v in values if v is not None]
    return (min(known), max(known)) if known else None


def right_and_wrong(per_source: list[SourceFigures]) -> list[PhotoKindSummary]:
    """The card's per-source figures gathered by kind of photo (dermoscopy first), for the model page's opening."""
    summaries = []
    for kind in ("dermoscopy", "phone camera"):
        rows = [row for row in per_source if row.photo_kind == kind]
        if not rows:
            continue
        summaries.append(
            PhotoKindSummary(
                kind=kind,
                sources=list(dict.fromkeys(row.name for row in rows)),
                n_images=sum(row.n_images or 0 for row in rows),
                melanoma_named=_span([row.melanoma_recall for row in rows]),
                mole_named=_span([row.mole_recall for row in rows]),
                malignant_flagged_at_90=_span([row.sensitivity_at_90_specificity for row in rows]),
            )
        )
    return summaries


@dataclass(frozen=True)
class MetadataEffect:
    """What age, sex and body site would change for one source, measured for the installed model
    (reports/metadata_study.json, `python -m evaluation.metadata_study`): the malignant AUC on validation
    photos, out of fold, from the photo alone and with them added."""

    name: str
    photo_kind: str
    photos: int | None
    without: float
    with_metadata: float


METADATA_STUDY = "metadata_study.json"


def metadata_effects(version: str, reports: Path | None = None) -> list[MetadataEffect]:
    """The metadata study's figures per source when it was run for model `version`; empty otherwise (no
    study, another model's, or a broken file: the page then says nothing it cannot back)."""
    path = (reports or Path(settings.BASE_DIR) / "reports") / METADATA_STUDY
    try:
        study = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(study, dict) or study.get("model_version") != version:
        return []
    folds = _mapping(study.get("validation_out_of_fold"))
    without, with_ = _mapping(folds.get("without")), _mapping(folds.get("with"))
    counts = _mapping(study.get("counts"))
    effects = []
    for key in without:
        before = _number(_mapping(without.get(key)).get("auc"))
        after = _number(_mapping(with_.get(key)).get("auc"))
        if before is None or after is None:
            continue
        name, kind = SOURCE_NAMES.get(str(key), (str(key), ""))
        effects.append(MetadataEffect(name, kind, _count(_mapping(counts.get(key)).get("validation")), before, after))
    return effects


@dataclass(frozen=True)
class InstalledModel:
    """What the public page says about the installed model. Only `version` is sure to be set."""

    version: str
    created: datetime | None
    architecture: str
    alpha: float | None
    pretrained_on: str
    training_data: str
    split_unit: str
    images_per_split: dict[str, int]
    input_size: int | None
    test: HeldOutMetrics
    uses_metadata: bool  # age, sex and body site change the result (not merely accepted)
    accepts_metadata: bool  # the model takes them as an input, used or not
    metadata_description: str
    per_source: list[SourceFigures]
    detects_photo_type: bool
    photo_type_accuracy: float | None  # the detector's, on validation photos of every source
    views_per_photo: int  # test-time augmentation: 1 when each photo is scored once
    intended_use: str
    licence: str
    # The advice bands' operating points (inference.advice): {"medium": {...}, "high": {...}}, or
    # None when the card has none; and what data the points were measured on.
    bands: dict | None = None
    operating_points_data: str = ""
    # The band starts per kind of photo (the card's `operating_points_by_photo_type`), with each source's
    # figures at them; empty for a card without them (the pooled `bands` then apply to every photo).
    bands_by_type: list["TypeBands"] = field(default_factory=list)
    # The not-assessable check's record in the card (`not_assessable`): the share of photos that are not
    # lesions, and of patches of plain skin from phone photos, that it refused; None when not recorded.
    non_lesion_refused: float | None = None
    non_lesion_images: int | None = None
    plain_skin_refused: float | None = None
    plain_skin_images: int | None = None

    @property
    def metadata_effects(self) -> list[MetadataEffect]:
        return metadata_effects(self.version)

    @property
    def right_and_wrong(self) -> list[PhotoKindSummary]:
        return right_and_wrong(self.per_source)

    @property
    def network(self) -> str:
        """The backbone's name without the technical detail ("MobileNetV2 0.5", "EfficientNet-Lite0"):
        the first part of the architecture that is not the colour-constancy layer in front of it."""
        parts = [part.strip() for part in self.architecture.split(", ")]
        backbone = next((part for part in parts if not part.lower().startswith("shades-of-gray")), "")
        return backbone.split("(")[0].strip()


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    # bool is an int in Python; a card saying `true` for a figure is a broken card, not 100%.
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _created(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# How a card section's figure is read, by the type of the field it fills.
_READERS: dict[Any, Callable[[Any], Any]] = {int | None: _count, float | None: _number}

Figures = TypeVar("Figures", SourceFigures, HeldOutMetrics)


def _figures(kind: type[Figures], section: dict, **given: Any) -> Figures:
    """`kind` filled from one card section: every field not `given` is read from the section's key of that name.

    The fields' names are the card's keys, so each figure is named once (in the dataclass); a count
    or a figure by its field's type, None where the card lacks it or holds something else.
    """
    hints = get_type_hints(kind)
    read = {f.name: _READERS[hints[f.name]](section.get(f.name)) for f in fields(kind) if f.name not in given}
    return kind(**given, **read)


def _source_figures(key: str, figures: dict, split: str) -> SourceFigures:
    name, kind = SOURCE_NAMES.get(key, (key, ""))
    recall = _mapping(figures.get("recall_per_class"))
    return _figures(
        SourceFigures,
        figures,
        key=key,
        name=name,
        photo_kind=kind,
        split=split,
        melanoma_recall=_number(recall.get("mel")),
        mole_recall=_number(recall.get("nv")),
    )


def _per_source(card: ModelCard) -> list[SourceFigures]:
    """Each source's validation figures, then the HAM10000 test split's; empty for a single-source card."""
    metrics = _mapping(card.get("metrics"))
    rows = [
        _source_figures(str(key), figures, "validation")
        for key, figures in _mapping(metrics.get("validation_per_source")).items()
        if isinstance(figures, dict)
    ]
    test = metrics.get("ham10000_test")
    if isinstance(test, dict):
        rows.append(_source_figures("ham10000", test, "test"))
    return rows


def _test_metrics(card: ModelCard) -> HeldOutMetrics:
    test = _mapping(_mapping(card.get("metrics")).get("test"))
    recall = _mapping(test.get("per_class_recall"))
    per_split_and_class = _mapping(_mapping(card.get("training")).get("images_per_split_and_class"))
    class_counts = _mapping(per_split_and_class.get("test"))
    listed = card.get("malignant_classes")
    malignant = set(listed) if isinstance(listed, list) else set(MALIGNANT_CLASSES)
    return _figures(
        HeldOutMetrics,
        test,
        # The site's seven classes and names, as on the result pages; the engine refuses a model with others.
        per_class=[
            ClassRecall(
                code=code,
                name=CLASS_LABELS[code],
                malignant=code in malignant,
                recall=_number(recall.get(code)),
                n_images=_count(class_counts.get(code)),
            )
            for code in CLASSES
        ],
    )


ADVICE_SENSITIVITY, ADVICE_SPECIFICITY = MEDIUM_SENSITIVITY, HIGH_SPECIFICITY


@dataclass(frozen=True)
class SourceAtBands:
    """One validation source's figures at one photo type's band starts."""

    name: str
    n_malignant: int | None
    n_benign: int | None
    medium_sensitivity: float | None  # malignant photos told medium or high
    medium_specificity: float | None  # benign photos told low
    high_sensitivity: float | None  # malignant photos told high
    high_specificity: float | None  # benign photos below high


@dataclass(frozen=True)
class TypeBands:
    """One kind of photo's band starts (`operating_points_by_photo_type`) and each of its sources there."""

    kind: str  # "dermoscopy" or "phone camera"
    medium: float
    high: float
    medium_sensitivity: float | None  # the worst source's
    medium_specificity: float | None  # the pooled benign photos'
    high_specificity: float | None
    sources: list[SourceAtBands]


PHOTO_TYPE_KINDS = {"dermoscopy": "dermoscopy", "clinical": "phone camera"}


def _bands_by_type(card: ModelCard) -> list[TypeBands]:
    types = _mapping(_mapping(card.get("operating_points_by_photo_type")).get("types"))
    out = []
    for photo_type, kind in PHOTO_TYPE_KINDS.items():
        bands = _mapping(types.get(photo_type))
        medium, high = _mapping(bands.get("medium")), _mapping(bands.get("high"))
        medium_at, high_at = _number(medium.get("threshold")), _number(high.get("threshold"))
        if medium_at is None or high_at is None:
            continue
        at_medium, at_high = _mapping(medium.get("sources")), _mapping(high.get("sources"))
        sources = []
        for key, figures in at_medium.items():
            figures, there = _mapping(figures), _mapping(at_high.get(key))
            sources.append(
                SourceAtBands(
                    name=SOURCE_NAMES.get(str(key), (str(key), ""))[0],
                    n_malignant=_count(figures.get("n_malignant")),
                    n_benign=_count(figures.get("n_benign")),
                    medium_sensitivity=_number(figures.get("sensitivity")),
                    medium_specificity=_number(figures.get("specificity")),
                    high_sensitivity=_number(there.get("sensitivity")),
                    high_specificity=_number(there.get("specificity")),
                )
            )
        out.append(
            TypeBands(
                kind=kind,
                medium=medium_at,
                high=high_at,
                medium_sensitivity=_number(medium.get("sensitivity")),
                medium_specificity=_number(medium.get("specificity")),
                high_specificity=_number(high.get("specificity")),
                sources=sources,
            )
        )
    return out


def installed_model() -> InstalledModel | None:
    """The installed model as its card (`MODEL_DIR/model_card.json`) describes it; None without a readable card.

    Optional keys may be missing or null (older cards lack the metadata input and test-time
    augmentation); they come back empty, and the page leaves out what it cannot say.
    """
    try:
        card = read_card(settings.MODEL_DIR)
    except CardError as exc:
        logger.error("No usable model card: %s", exc)
        return None
    backbone = _mapping(card.get("backbone"))
    training = _mapping(card.get("training"))
    metadata = card.get("metadata_input")
    not_assessable = _mapping(card.get("not_assessable"))
    non_lesion = _mapping(not_assessable.get("non_lesion_refused"))
    plain_skin = _mapping(not_assessable.get("plain_skin_refused"))
    return InstalledModel(
        version=_text(card["version"]),
        created=_created(card.get("created")),
        architecture=_text(backbone.get("architecture")),
        alpha=_number(backbone.get("alpha")),
        pretrained_on=_text(backbone.get("weights_source")),
        training_data=_text(training.get("data")),
        split_unit=_text(training.get("split_unit")),
        images_per_split={
            split: count
            for split, count in _mapping(training.get("images_per_split")).items()
            if _count(count) is not None
        },
        input_size=_count(card.get("input_size")),
        test=_test_metrics(card),
        uses_metadata=metadata_used(card),
        accepts_metadata=bool(metadata),
        metadata_description=_text(_mapping(metadata).get("description")),
        per_source=_per_source(card),
        detects_photo_type=bool(_mapping(card.get("photo_type")).get("types")),
        photo_type_accuracy=_number(_mapping(card.get("photo_type")).get("validation_accuracy")),
        views_per_photo=max(_count(card.get("test_time_augmentation")) or 1, 1),
        intended_use=_text(card.get("intended_use")),
        licence=_text(card.get("licence")),
        bands=operating_bands(card),
        operating_points_data=_text(_mapping(card.get("operating_points")).get("data")),
        bands_by_type=_bands_by_type(card),
        non_lesion_refused=_number(non_lesion.get("rate")),
        non_lesion_images=_count(non_lesion.get("images")),
        plain_skin_refused=_number(plain_skin.get("rate")),
        plain_skin_images=_count(plain_skin.get("images")),
    )
