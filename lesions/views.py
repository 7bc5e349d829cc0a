"""The patient's pages: dashboard, lesion timeline, photo upload and photo files, re-check reminders."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from inference.services import current_model_version
from lesions import reminders, selectors, services
from lesions.charts import timeline_chart_data
from lesions.compare_presenter import ComparisonLinks, compare_page_context, pair_query
from lesions.files import private_file_response
from lesions.forms import (
    DermatoscopeForm,
    LesionForm,
    PhotoCoinForm,
    PhotoDateForm,
    PhotoDeviceForm,
    PhotoScaleForm,
    PhotoSizeHintsForm,
    PhotoTypeForm,
    PhotoUploadForm,
    RecheckForm,
    user_coin_label,
)
from lesions.models import Lesion, Photo
from lesions.size_words import size_summary
from skinsite.throttles import MeasureThrottle, UploadThrottle


def _add_errors(form: BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, each message next to the field it names."""
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _names_hint(error: ValidationError) -> bool:
    """Whether a service's error is about the coin or the dermatoscope (shown on the hints' fields)."""
    return hasattr(error, "error_dict") and bool(set(error.error_dict) & {"coin", "coin_diameter_mm", "device"})


def _timeline_context(lesion: Lesion) -> dict:
    history = selectors.lesion_history(lesion=lesion)
    return {
        "lesion": lesion,
        "history": history,
        "assessment": selectors.lesion_assessment(lesion=lesion, history=history),
        "chart": timeline_chart_data(history),
        "pending": any(e.analysis is None or not e.analysis.is_finished for e in history),
        # Outlines stored on the analyses (inference.measuring), drawn as they are: none is computed here.
        "outlines": any(e.analysis is not None and e.analysis.outline_points for e in history),
    }


@login_required
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    lesions = list(selectors.lesions_for_user(user=request.user))
    rows = [
        (lesion, selectors.latest_analysis(lesion=lesion), selectors.lesion_assessment(lesion=lesion))
        for lesion in lesions
    ]
    # Lesions due for a new photo first, longest overdue first; the rest keep their order.
    due = {d.lesion.pk: d.due_at for d in reminders.due_lesions_for_user(user=request.user)}
    rows.sort(key=lambda row: (row[0].pk not in due, due.get(row[0].pk, timezone.now())))
    # The dots take the lesion's band, as its card does, not its latest photo's.
    bands = {lesion.pk: (assessment or {}).get("band") for lesion, _, assessment in rows}
    latest = [(lesion, analysis) for lesion, analysis, _ in rows]
    dots = selectors.body_map_dots(rows=latest, due_ids=set(due), bands=bands)
    # Each card's latest size in mm, from the photos lesions_for_user fetched already (no query more).
    version = current_model_version()
    cards = [
        (
            lesion,
            analysis,
            assessment,
            size_summary(
                selectors.TimelineEntry(photo=p, analysis=selectors.current_analysis(p, version))
                for p in getattr(lesion, "photos_in_order", [])
            ),
        )
        for lesion, analysis, assessment in rows
    ]
    context = {
        "cards": cards,
        "rows": latest,
        "dots": dots,
        "form": LesionForm(),
        "hints_form": PhotoSizeHintsForm(user=request.user, auto_id="capture-%s"),
    }
    return render(request, "lesions/dashboard.html", context)


# The page shows the owner's photos through the session's login (the API's URLs want a token),
# and the aligned pictures through the API, which takes the session too.
_COMPARE_PAGE_LINKS = ComparisonLinks(
    photo=lambda photo: reverse("lesions:photo-image", args=[photo.pk]),
    heatmap=lambda photo: reverse("lesions:photo-heatmap", args=[photo.pk]),
    aligned=lambda pair, layer: reverse("api-lesion-compare-image", args=[pair.lesion.pk]) + pair_query(pair, layer),
)


@login_required
@require_GET
def lesion_compare(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    """Two photos of the lesion side by side and as an overlay (`?a=&b=`; default: the first and the last)."""
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    return render(request, "lesions/compare.html", compare_page_context(request, lesion, _COMPARE_PAGE_LINKS))


@login_required
@require_GET
def capture(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The phone flow on a page of its own; `?lesion=<id>` preselects one of the user's lesions."""
    lesions = selectors.lesions_for_user(user=request.user)
    selected = request.GET.get("lesion", "")
    context = {
        "rows": [(lesion, None) for lesion in lesions],
        "form": LesionForm(),
        "hints_form": PhotoSizeHintsForm(user=request.user, auto_id="capture-%s"),
        "selected_lesion": int(selected) if selected.isdigit() else None,
    }
    return render(request, "lesions/capture.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def lesion_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = LesionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lesion = services.lesion_create(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"“{lesion.name}” was added. Now upload its first photo.")
            return redirect(lesion)
    return render(request, "lesions/lesion_form.html", {"form": form})


@login_required
@require_GET
def lesion_detail(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    context = _timeline_context(lesion)
    # Asked on every upload, answered in advance as last time: a patient keeps one way of taking photos.
    last_type = next((e.photo.photo_type for e in reversed(context["history"]) if e.photo.photo_type), "")
    context["upload_form"] = PhotoUploadForm(initial={"photo_type": last_type})
    context["hints_form"] = PhotoSizeHintsForm(user=request.user)
    return render(request, "lesions/lesion_detail.html", context)


@login_required
@require_GET
def lesion_timeline(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    """The timeline alone, fetched by the lesion page while analyses are still running."""
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    return render(request, "lesions/_timeline.html", _timeline_context(lesion))


@login_required
@require_http_methods(["GET", "POST"])
def lesion_edit(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    form = LesionForm(request.POST or None, instance=lesion)
    if request.method == "POST" and form.is_valid():
        try:
            services.lesion_update(lesion=lesion, **form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect(lesion)
    return render(request, "lesions/lesion_form.html", {"form": form, "lesion": lesion})


@login_required
@require_http_methods(["GET", "POST"])
def lesion_delete(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    if request.method == "POST":
        name = lesion.name
        services.lesion_delete(lesion=lesion)
        messages.success(request, f"“{name}” and its photos were deleted.")
        return redirect("lesions:dashboard")
    return render(request, "lesions/confirm_delete.html", {"object": lesion, "what": "lesion"})


@login_required
@require_POST
def photo_upload(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    form = PhotoUploadForm(request.POST, request.FILES)
    hints_form = PhotoSizeHintsForm(request.POST, user=request.user)
    # The API's upload rate and counter (API_THROTTLE_UPLOAD), so the web is no way round it.
    throttle = UploadThrottle()
    if not throttle.allow_request(request, None):
        wait = int(throttle.wait() or 60)
        form.add_error(None, f"Too many uploads. Please try again in {max(1, round(wait / 60))} minutes.")
        context = _timeline_context(lesion) | {"upload_form": form, "hints_form": hints_form}
        response = render(request, "lesions/lesion_detail.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    if form.is_valid() & hints_form.is_valid():  # both, so each shows its errors
        try:
            services.photo_create(
                lesion=lesion,
                upload=form.cleaned_data["image"],
                taken_at=form.cleaned_data["taken_at"],
                photo_type=form.cleaned_data["photo_type"] or None,
                **hints_form.hints(),
            )
        except ValidationError as exc:
            _add_errors(hints_form if _names_hint(exc) else form, exc)
        else:
            messages.success(request, "Photo saved. Its analysis will appear here in a few seconds.")
            return redirect(lesion)
    context = _timeline_context(lesion) | {"upload_form": form, "hints_form": hints_form}
    return render(request, "lesions/lesion_detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def photo_detail(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponse:
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    form = PhotoDateForm(request.POST or None, initial={"taken_at": photo.taken_at})
    if request.method == "POST" and form.is_valid():
        try:
            services.photo_update(photo=photo, taken_at=form.cleaned_data["taken_at"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "The date was changed.")
            return redirect(photo.lesion)
    return _photo_page(request, photo, form=form)


def _photo_page(
    request: HttpRequest,
    photo: Photo,
    *,
    form: PhotoDateForm | None = None,
    type_form: PhotoTypeForm | None = None,
    scale_form: PhotoScaleForm | None = None,
    coin_form: PhotoCoinForm | None = None,
    device_form: PhotoDeviceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    analysis = selectors.current_analysis(photo)
    coin_label = user_coin_label(request.user)
    # Not said yet: start from what the model detected, so a patient who agrees has nothing to change.
    detected = analysis.inputs.get("photo_type") if analysis and isinstance(analysis.inputs, dict) else None
    context = {
        "photo": photo,
        "analysis": analysis,
        # The lesion's answer leads the page, as everywhere; this photo's numbers sit under Details.
        "assessment": selectors.lesion_assessment(lesion=photo.lesion),
        "form": form or PhotoDateForm(initial={"taken_at": photo.taken_at}),
        "type_form": type_form or PhotoTypeForm(initial={"photo_type": photo.photo_type or detected}),
        "scale_form": scale_form or PhotoScaleForm(initial=_marked_initial(photo), user_coin_label=coin_label),
        "coin_form": coin_form or PhotoCoinForm(user_coin_label=coin_label),
        "device_form": device_form or PhotoDeviceForm(initial={"device": photo.device_id}, user=request.user),
    }
    return render(request, "lesions/photo_detail.html", context, status=status)


def _marked_initial(photo: Photo) -> dict:
    """The points marked earlier, as the form shows them (percentages), so marking again starts there."""
    marked = photo.manual_scale or {}
    points = marked.get("points") or []
    if len(points) != 2:
        return {"length": "other"}
    (x1, y1), (x2, y2) = points
    return {
        "x1": round(100 * x1, 1),
        "y1": round(100 * y1, 1),
        "x2": round(100 * x2, 1),
        "y2": round(100 * y2, 1),
        "length": "other",
        "distance_mm": marked.get("distance_mm"),
    }


def _to_size_result(photo: Photo) -> HttpResponse:
    """After a scale, coin or dermatoscope form: back to the photo page, at its size."""
    return redirect(reverse("lesions:photo", args=[photo.pk]) + "#size-result")


def measure_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The API's measuring rate and counter (API_THROTTLE_MEASURE) on a web form that measures a photo again:
    beyond it, 429 with Retry-After and a page that says when to try again; nothing is measured."""

    @functools.wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = MeasureThrottle()
        if throttle.allow_request(request, None):
            return view(request, *args, **kwargs)
        wait = int(throttle.wait() or 60)
        response = render(
            request,
            "lesions/too_many_measures.html",
            {"minutes": max(1, round(wait / 60))},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response

    return wrapped


@login_required
@require_POST
@measure_throttled
def photo_scale(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponse:
    """Two points marked on the photo and the length between them: the worker measures the lesion again in mm."""
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    form = PhotoScaleForm(request.POST, user_coin_label=user_coin_label(request.user))
    if form.is_valid():
        distance = form.distance(request.user.coin_diameter_mm)
        if distance is None:
            form.add_error("distance_mm", "Type the length between the two points in mm.")
        else:
            try:
                services.photo_scale_set(photo=photo, user=request.user, points=form.points(), distance_mm=distance)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, "Thank you. Skinsite is measuring the size again from your two points.")
                return _to_size_result(photo)
    return _photo_page(request, photo, scale_form=form, status=400)


@login_required
@require_POST
@measure_throttled
def photo_coin(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponse:
    """The coin in the photo, picked from the table: the worker looks for it and measures the lesion again."""
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    form = PhotoCoinForm(request.POST, user_coin_label=user_coin_label(request.user))
    if form.is_valid():
        try:
            services.photo_coin_set(photo=photo, user=request.user, coin=form.cleaned_data["coin"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Thank you. Skinsite is looking for that coin and measuring the size again.")
            return _to_size_result(photo)
    return _photo_page(request, photo, coin_form=form, status=400)


@login_required
@require_POST
@measure_throttled
def photo_device(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponse:
    """Which dermatoscope took the photo: its set-up then gives the size (unless a coin or marked points do)."""
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    form = PhotoDeviceForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.photo_device_set(photo=photo, user=request.user, device=form.cleaned_data["device"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Saved. Skinsite is measuring the size again.")
            return _to_size_result(photo)
    return _photo_page(request, photo, device_form=form, status=400)


@login_required
@require_POST
@measure_throttled
def photo_scale_clear(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponse:
    """Forget the two points marked by hand: the coin, card, ruler or dermatoscope gives the size again."""
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    services.photo_scale_clear(photo=photo, user=request.user)
    messages.success(request, "Your two points were removed. Skinsite is measuring the size from the photo again.")
    return _to_size_result(photo)


def _photos(count: int) -> str:
    return "1 photo" if count == 1 else f"{count} photos"


@login_required
@require_http_methods(["GET", "POST"])
@measure_throttled
def dermatoscopes(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The patient's phone dermatoscopes, and setting one up (again) from a photo of a ruler through it."""
    again = request.GET.get("again", "")
    devices = list(selectors.dermatoscopes_for_user(user=request.user))
    chosen = next((d for d in devices if str(d.pk) == again), None)
    form = DermatoscopeForm(
        request.POST or None,
        request.FILES or None,
        initial={"name": chosen.name if chosen else ""},
        user=request.user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            device = services.dermatoscope_calibrate(
                user=request.user,
                name=form.cleaned_data["name"],
                photo=form.photo(),
                points=form.points(),
                distance_mm=form.cleaned_data["distance_mm"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            # Counted after the commit: what the worker has still to do (services.dermatoscope_photos_remeasure).
            measuring = selectors.dermatoscope_photos_measuring(dermatoscope=device)
            text = f"“{device.name}” is set up. Photos you take through it now get a size in mm."
            if measuring:
                text += (
                    f" {_photos(measuring)} you took with it {'is' if measuring == 1 else 'are'} being measured again."
                )
            messages.success(request, text)
            return redirect("lesions:dermatoscopes")
    context = {"devices": devices, "form": form, "again": chosen}
    return render(request, "lesions/dermatoscopes.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def photo_type(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponse:
    """The patient corrects how the photo was taken; the analysis runs again with that type."""
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    form = PhotoTypeForm(request.POST)
    if form.is_valid():
        try:
            services.photo_type_set(photo=photo, photo_type=form.cleaned_data["photo_type"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Thank you. The photo is being analysed again with that photo type.")
            return redirect(photo)
    return _photo_page(request, photo, type_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def photo_delete(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponse:
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    if request.method == "POST":
        lesion = photo.lesion
        services.photo_delete(photo=photo)
        messages.success(request, "The photo was deleted.")
        return redirect(lesion)
    return render(request, "lesions/confirm_delete.html", {"object": photo, "what": "photo"})


@login_required
@require_GET
def photo_image(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponseBase:
    return private_file_response(selectors.photo_get(user=request.user, photo_id=photo_id).image)


@login_required
@require_GET
def photo_heatmap(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponseBase:
    """The current analysis's heatmap over the photo (owner only, like the photo itself)."""
    heatmap = selectors.heatmap_file(selectors.photo_get(user=request.user, photo_id=photo_id))
    if heatmap is None:
        raise Http404("No heatmap for this photo.")
    return private_file_response(heatmap)


@login_required
@require_GET
def photo_thumbnail(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponseBase:
    photo = selectors.photo_get(user=request.user, photo_id=photo_id)
    return private_file_response(photo.thumbnail_file)


# --- Re-check reminders (lesions.reminders) -------------------------------------------------------


@login_required
@require_POST
def lesion_recheck(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    form = RecheckForm(request.POST)
    months = form.cleaned_data["recheck_interval_months"] if form.is_valid() else None
    try:
        reminders.lesion_recheck_interval_set(lesion=lesion, months=months)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if months and not request.user.reminders_enabled:
            messages.warning(request, "Saved, but reminder emails are turned off in your account settings.")
        else:
            messages.success(request, "Saved." if months else "No more reminders for this lesion.")
    return redirect(lesion)


# Mail clients' one-click unsubscribe (RFC 8058) POSTs without a CSRF token; the signature is the check.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def reminders_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a page with one button; POST turns reminders off. No login needed.

    A GET changes nothing because mail scanners follow links in emails: the signed link is the
    authorisation.
    """
    user = reminders.user_from_unsubscribe_token(token)
    if user is None:
        return render(request, "lesions/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        reminders.reminders_unsubscribe(user=user)
        return render(request, "lesions/unsubscribe.html", {"done": True})
    return render(request, "lesions/unsubscribe.html", {"token": token})
