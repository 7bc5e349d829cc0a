"""The physician's side of a share link: the read-only report, its PDF, its photos (with heatmaps) and notes.

No login: the token in the URL is the authorisation, resolved by `sharing.selectors` on every
request. Whatever the view, a wrong token is 404 and a revoked or expired one 410, every
response tells search engines to stay away, and nothing links into the patient's account.
Requests are counted per IP address and per token in Django's cache (a small fixed-window
counter), so a leaked link cannot be hammered and tokens cannot be guessed in bulk.
"""

import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from lesions import selectors as lesion_selectors
from lesions.files import private_file_response
from sharing import selectors, services
from sharing.forms import NoteForm
from sharing.models import ShareAccess, ShareLink
from sharing.pdf import chart_svg_data_uri, report_pdf_build

_WINDOW_SECONDS = 60


def _limit(name: str) -> int:
    # Requests per minute; settings may override them (tests do), the defaults suit one reader.
    defaults = {"REPORT_RATE_LIMIT_PER_MINUTE": 30, "REPORT_PHOTO_RATE_LIMIT_PER_MINUTE": 600}
    return int(getattr(settings, name, defaults[name]))


def _over_limit(key: str, limit: int) -> bool:
    """Count one request against `key` in the current minute; True once `limit` is passed."""
    bucket = f"report-rate:{key}:{int(time.time() // _WINDOW_SECONDS)}"
    cache.add(bucket, 0, timeout=_WINDOW_SECONDS * 2)
    try:
        count = cache.incr(bucket)
    except ValueError:  # evicted between add and incr
        cache.set(bucket, 1, timeout=_WINDOW_SECONDS * 2)
        count = 1
    return count > limit


def _private(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The token is in the URL: never send it on to another site as a Referer.
    response["Referrer-Policy"] = "no-referrer"
    response.setdefault("Cache-Control", "private, no-store")
    return response


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "sharing/report_rate_limited.html", status=429)
    response["Retry-After"] = str(_WINDOW_SECONDS)
    return _private(response)


def share_token_required(*, photos: bool = False) -> Callable:
    """Resolve the URL's token to a live ShareLink and pass it to the view, or answer 404/410/429.

    Rate limits apply before the token is looked up, so guessing costs as much as reading.
    """
    limit_name = "REPORT_PHOTO_RATE_LIMIT_PER_MINUTE" if photos else "REPORT_RATE_LIMIT_PER_MINUTE"

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, token: str, *args, **kwargs) -> HttpResponse:
            limit = _limit(limit_name)
            scope = "photo" if photos else "page"
            # Behind a proxy REMOTE_ADDR is the proxy; the per-token limit still holds.
            ip = request.META.get("REMOTE_ADDR", "")
            if _over_limit(f"{scope}:ip:{ip}", limit) or _over_limit(
                f"{scope}:token:{selectors.token_hash(token)}", limit
            ):
                return _too_many(request)
            try:
                share = selectors.share_link_resolve(token=token)
            except selectors.ShareLinkGone as gone:
                return _private(render(request, "sharing/report_gone.html", {"share": gone.share}, status=410))
            return _private(view(request, share, token, *args, **kwargs))

        return wrapper

    return decorator


def _report_context(share: ShareLink, token: str, note_forms: dict | None = None) -> dict:
    sections = selectors.report_sections(lesions=selectors.shared_lesions(share=share))
    note_forms = note_forms or {}
    return {
        "share": share,
        "token": token,
        "patient_name": share.owner.name,
        "sections": [
            {
                "section": section,
                "chart_svg": chart_svg_data_uri(section.chart),
                "notes": selectors.notes_for_lesion(lesion=section.lesion, share=share),
                "note_form": note_forms.get(section.lesion.pk) or NoteForm(auto_id=f"note-{section.lesion.pk}-%s"),
            }
            for section in sections
        ],
    }


@require_GET
@share_token_required()
def report(request: HttpRequest, share: ShareLink, token: str) -> HttpResponse:
    services.share_access_record(share=share, kind=ShareAccess.Kind.REPORT)
    return render(request, "sharing/report.html", _report_context(share, token))


@require_GET
@share_token_required()
def report_pdf(request: HttpRequest, share: ShareLink, token: str) -> HttpResponse:
    sections = selectors.report_sections(lesions=selectors.shared_lesions(share=share))
    pdf = report_pdf_build(
        patient_name=share.owner.name,
        sections=sections,
        shared_with=share.physician_email,
        message=share.message,
        expires_at=share.expires_at,
    )
    services.share_access_record(share=share, kind=ShareAccess.Kind.PDF)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="skinsite-report.pdf"'
    return response


@require_http_methods(["POST"])
@share_token_required()
def report_note(request: HttpRequest, share: ShareLink, token: str, lesion_id: int) -> HttpResponse:
    lesion = selectors.shared_lesion_get(share=share, lesion_id=lesion_id)
    form = NoteForm(request.POST, auto_id=f"note-{lesion.pk}-%s")
    if form.is_valid():
        try:
            services.physician_note_create(share=share, lesion=lesion, body=form.cleaned_data["body"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("body", message)
        else:
            messages.success(request, f"Your note on “{lesion.name}” was sent to {share.owner.name}.")
            return redirect(reverse("sharing:report", args=[token]) + f"#lesion-{lesion.pk}")
    context = _report_context(share, token, note_forms={lesion.pk: form})
    return render(request, "sharing/report.html", context, status=400)


@require_GET
@share_token_required(photos=True)
def report_photo_image(request: HttpRequest, share: ShareLink, token: str, photo_id: int) -> HttpResponse:
    return private_file_response(selectors.shared_photo_get(share=share, photo_id=photo_id).image)


@require_GET
@share_token_required(photos=True)
def report_photo_thumbnail(request: HttpRequest, share: ShareLink, token: str, photo_id: int) -> HttpResponse:
    photo = selectors.shared_photo_get(share=share, photo_id=photo_id)
    return private_file_response(photo.thumbnail_file)


@require_GET
@share_token_required(photos=True)
def report_photo_heatmap(request: HttpRequest, share: ShareLink, token: str, photo_id: int) -> HttpResponse:
    """Where the model looked on a shared photo: the same overlay the patient sees, once the analysis is done."""
    heatmap = lesion_selectors.heatmap_file(selectors.shared_photo_get(share=share, photo_id=photo_id))
    if heatmap is None:
        raise Http404("No heatmap for this photo.")
    return private_file_response(heatmap)
