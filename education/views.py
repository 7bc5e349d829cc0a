"""The public guide under /learn/: the seven conditions, the guides, their example images and how the analysis works.

No login needed. Pages are marked `no-cache` so a browser asks again each time and an editor's change
shows at once; example images are revalidated with an ETag instead of being downloaded again.
"""

import hashlib
import mimetypes

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from education import selectors
from education.models import Condition, ExampleImage, Guide
from measurement.scale import COINS, ID1_CARD_MM
from measurement.thresholds import load_thresholds

# Pages show the visitor's own menu (and a CSRF token), so they may be kept by the browser only.
_fresh_page = cache_control(private=True, no_cache=True)


@require_GET
@_fresh_page
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "groups": selectors.conditions_by_group(),
        "guides": selectors.guides_published(),
        "resources": selectors.general_resources(),
    }
    return render(request, "education/index.html", context)


@require_GET
@_fresh_page
def condition_detail(request: HttpRequest, code: str) -> HttpResponse:
    preview = selectors.can_preview(request.user, Condition)
    obj = selectors.condition_get(code=code, preview=preview)
    return render(request, "education/condition_detail.html", {"condition": obj})


@require_GET
@_fresh_page
def guide_detail(request: HttpRequest, slug: str) -> HttpResponse:
    obj = selectors.guide_get(slug=slug, preview=selectors.can_preview(request.user, Guide))
    return render(request, "education/guide_detail.html", {"guide": obj})


@require_GET
@_fresh_page
def size_guide(request: HttpRequest) -> HttpResponse:
    """How to take a photo with a coin or a card beside the mole, so Skinsite can tell its size in mm."""
    return render(request, "education/size_guide.html", {"coins": COINS, "card_mm": ID1_CARD_MM})


@require_GET
@_fresh_page
def model_card(request: HttpRequest) -> HttpResponse:
    """What the installed model is and how well it does, from its card; a short notice when there is none."""
    thresholds = load_thresholds()
    false_alarms = float(thresholds.provenance.get("false_alarm_rate_validation", 0))
    model = selectors.installed_model()
    study_model = str(thresholds.provenance.get("model_version", ""))
    context = {
        "model": model,
        # The probability threshold was set on one model's scores: say so when another is installed.
        "change_study_model": study_model if model and study_model and study_model != model.version else "",
        "change_thresholds": thresholds,
        "change_false_alarm_percent": round(100 * false_alarms, 1),
        "advice_sensitivity": selectors.ADVICE_SENSITIVITY,
        "advice_specificity": selectors.ADVICE_SPECIFICITY,
    }
    return render(request, "education/model.html", context)


def _image_response(field: FieldFile) -> HttpResponseBase:
    name = field.name
    if not name:
        raise Http404("No such image.")
    storage = field.storage
    try:
        storage.path(name)
    except NotImplementedError:
        # Remote storage keeps files private and signs its URLs, so send the browser there.
        return HttpResponseRedirect(field.url)
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("The image is missing from storage.") from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type)


@require_GET
def example_image(request: HttpRequest, image_id: int) -> HttpResponseBase:
    """An example image: public content, unlike patients' photos, but hidden with an unpublished page."""
    obj = selectors.example_image_get(image_id=image_id, preview=selectors.can_preview(request.user, ExampleImage))
    if not obj.image.name:
        raise Http404("No such image.")
    # A replaced image is stored under a new name, so the name identifies the bytes.
    etag = '"' + hashlib.sha256(obj.image.name.encode()).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag) or _image_response(obj.image)
    if response.status_code in (200, 304):
        response["ETag"] = etag
    if obj.condition.published:
        patch_cache_control(response, public=True, no_cache=True)
    else:
        patch_cache_control(response, private=True, no_cache=True)
    return response
