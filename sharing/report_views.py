"""The physician's side of a share link: the read-only report, its PDF, its photos (with heatmaps) and notes.

No login: the token is the authorisation. It is used once: `/r/<token>/` exchanges it for a
short-lived report session (REPORT_SESSION_MINUTES, kept in the visitor's Django session and tied
to the link's id and token hash) and redirects to `/report/<id>/`, so the token does not stay in
the address bar, the browser history, Referer headers or access logs (as Django's password-reset
view does). Every request checks the session and the link again: a wrong token is 404, a revoked
or expired link 410 at once, an ended session 403. Every response tells search engines to stay
away, and nothing links into the patient's account. Requests are counted per client address
(behind our trusted proxies) and per link in Django's cache (a small fixed-window counter), so a
leaked link cannot be hammered and tokens cannot be guessed in bulk.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from lesions import comparison
from lesions import selectors as lesion_selectors
from lesions.compare_presenter import ComparisonLinks, compare_page_context, pair_query
from lesions.files import private_file_response
from sharing import selectors, services
from sharing.forms import NoteForm
from sharing.models import ShareAccess, ShareLink
from sharing.pdf import chart_svg_data_uri, report_pdf_build, size_chart_svg_data_uri
from skinsite.ratelimit import client_address

_WINDOW_SECONDS = 60
_Response = TypeVar("_Response", bound=HttpResponseBase)
# {str(share id): [expiry as a POSIX timestamp, token hash]} in the visitor's session.
_SESSION_KEY = "sharing_reports"


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


def _private(response: _Response) -> _Response:
    response["X-Robots-Tag"] = "noindex, nofollow"
    # /r/<token>/ carries the token: never send a report's address on to another site as a Referer.
    # "same-origin", not "no-referrer": under no-referrer a browser posts the note form with
    # `Origin: null`, which Django's CSRF check refuses (a physician could not leave a note).
    response["Referrer-Policy"] = "same-origin"
    response.setdefault("Cache-Control", "private, no-store")
    return response


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "sharing/report_rate_limited.html", status=429)
    response["Retry-After"] = str(_WINDOW_SECONDS)
    return _private(response)


def _rate_limited(request: HttpRequest, *, photos: bool, link_key: str) -> bool:
    limit = _limit("REPORT_PHOTO_RATE_LIMIT_PER_MINUTE" if photos else "REPORT_RATE_LIMIT_PER_MINUTE")
    scope = "photo" if photos else "page"
    # The same trusted proxy count as the API throttles: behind a proxy, REMOTE_ADDR is the proxy.
    return _over_limit(f"{scope}:ip:{client_address(request)}", limit) or _over_limit(f"{scope}:link:{link_key}", limit)


def _gone(request: HttpRequest, gone: selectors.ShareLinkGone) -> HttpResponse:
    return _private(render(request, "sharing/report_gone.html", {"share": gone.share}, status=410))


def _session_grant(request: HttpRequest, share: ShareLink) -> bool:
    """Open (or extend) this visitor's report session for `share`; True if it was not open."""
    grants = dict(request.session.get(_SESSION_KEY, {}))
    now = time.time()
    # Drop ended sessions so the cookie's session does not grow with every link ever opened.
    grants = {key: grant for key, grant in grants.items() if grant[0] > now}
    was_open = str(share.pk) in grants
    grants[str(share.pk)] = [now + settings.REPORT_SESSION_MINUTES * 60, share.token_hash]
    request.session[_SESSION_KEY] = grants
    return not was_open


def _session_token_hash(request: HttpRequest, share_id: int) -> str | None:
    """The token hash this visitor's open report session holds for link `share_id`, if any."""
    grant = request.session.get(_SESSION_KEY, {}).get(str(share_id))
    if not grant or grant[0] <= time.time():
        return None
    return grant[1]


@require_GET
def report_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the email: trade the token for a report session, then drop it from the URL.

    The first opening in a session is noted in the patient's security log, not every page.
    Rate limits apply before the token is looked up, so guessing costs as much as reading.
    """
    if _rate_limited(request, photos=False, link_key=selectors.token_hash(token)):
        return _too_many(request)
    try:
        share = selectors.share_link_resolve(token=token)
    except selectors.ShareLinkGone as gone:
        return _gone(request, gone)
    if _session_grant(request, share):
        services.share_link_opened(share=share, request=request)
    return _private(redirect("sharing:report", share.pk))


def report_session_required(*, photos: bool = False) -> Callable:
    """Resolve the URL's link id through the visitor's report session to a live ShareLink and pass
    it to the view, or answer 403 (no open session), 404, 410 (revoked, expired) or 429."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, share_id: int, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if _rate_limited(request, photos=photos, link_key=str(share_id)):
                return _too_many(request)
            wanted = _session_token_hash(request, share_id)
            if wanted is None:
                return _private(render(request, "sharing/report_session_ended.html", status=403))
            try:
                share = selectors.share_link_for_session(share_id=share_id, token_hash=wanted)
            except selectors.ShareLinkGone as gone:
                return _gone(request, gone)
            return _private(view(request, share, *args, **kwargs))

        return wrapper

    return decorator


def _report_context(share: ShareLink, note_forms: dict | None = None) -> dict:
    sections = selectors.report_sections(lesions=selectors.shared_lesions(share=share))
    note_forms = note_forms or {}
    return {
        "share": share,
        "patient_name": share.shown_name,
        "sections": [
            {
                "section": section,
                "chart_svg": chart_svg_data_uri(section.chart),
                "size_chart_svg": size_chart_svg_data_uri(section.chart),
                "notes": selectors.notes_for_lesion(lesion=section.lesion, share=share),
                "note_form": note_forms.get(section.lesion.pk) or NoteForm(auto_id=f"note-{section.lesion.pk}-%s"),
            }
            for section in sections
        ],
    }


@require_GET
@report_session_required()
def report(request: HttpRequest, share: ShareLink) -> HttpResponse:
    services.share_access_record(share=share, kind=ShareAccess.Kind.REPORT)
    return render(request, "sharing/report.html", _report_context(share))


@require_GET
@report_session_required()
def report_pdf(request: HttpRequest, share: ShareLink) -> HttpResponse:
    sections = selectors.report_sections(lesions=selectors.shared_lesions(share=share))
    pdf = report_pdf_build(
        patient_name=share.shown_name,
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
@report_session_required()
def report_note(request: HttpRequest, share: ShareLink, lesion_id: int) -> HttpResponse:
    lesion = selectors.shared_lesion_get(share=share, lesion_id=lesion_id)
    form = NoteForm(request.POST, auto_id=f"note-{lesion.pk}-%s")
    if form.is_valid():
        try:
            services.physician_note_create(share=share, lesion=lesion, body=form.cleaned_data["body"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("body", message)
        else:
            messages.success(request, f"Your note on “{lesion.name}” was sent to {share.shown_name}.")
            return redirect(reverse("sharing:report", args=[share.pk]) + f"#lesion-{lesion.pk}")
    context = _report_context(share, note_forms={lesion.pk: form})
    return render(request, "sharing/report.html", context, status=400)


@require_GET
@report_session_required(photos=True)
def report_photo_image(request: HttpRequest, share: ShareLink, photo_id: int) -> HttpResponseBase:
    return private_file_response(selectors.shared_photo_get(share=share, photo_id=photo_id).image)


@require_GET
@report_session_required(photos=True)
def report_photo_thumbnail(request: HttpRequest, share: ShareLink, photo_id: int) -> HttpResponseBase:
    photo = selectors.shared_photo_get(share=share, photo_id=photo_id)
    return private_file_response(photo.thumbnail_file)


@require_GET
@report_session_required(photos=True)
def report_photo_heatmap(request: HttpRequest, share: ShareLink, photo_id: int) -> HttpResponseBase:
    """Where the model looked on a shared photo: the same overlay the patient sees, once the analysis is done."""
    heatmap = lesion_selectors.heatmap_file(selectors.shared_photo_get(share=share, photo_id=photo_id))
    if heatmap is None:
        raise Http404("No heatmap for this photo.")
    return private_file_response(heatmap)


def _compare_links(share: ShareLink) -> ComparisonLinks:
    """The compare page's pictures, all under this report's address (the patient's need a login)."""
    return ComparisonLinks(
        photo=lambda photo: reverse("sharing:report-photo-image", args=[share.pk, photo.pk]),
        heatmap=lambda photo: reverse("sharing:report-photo-heatmap", args=[share.pk, photo.pk]),
        aligned=lambda pair, layer: (
            reverse("sharing:report-compare-image", args=[share.pk, pair.lesion.pk]) + pair_query(pair, layer)
        ),
    )


@require_GET
@report_session_required()
def report_compare(request: HttpRequest, share: ShareLink, lesion_id: int) -> HttpResponse:
    """Two photos of a shared lesion side by side and overlaid, as the patient sees them (`?a=&b=`;
    default: the first and the last photo). Only lesions the link covers, only their photos."""
    lesion = selectors.shared_lesion_get(share=share, lesion_id=lesion_id)
    context = compare_page_context(request, lesion, _compare_links(share), with_not_assessable=False)
    context |= {"share": share, "patient_name": share.shown_name}
    return render(request, "sharing/report_compare.html", context)


# Counted as pages, not photos: each aligned picture is computed (a warp of the photo), not a
# stored file sent, so a leaked link gets the page rate of them, not the photo rate.
@require_GET
@report_session_required()
def report_compare_image(request: HttpRequest, share: ShareLink, lesion_id: int) -> HttpResponse:
    """The later photo (or its heatmap or outline: `layer`) aligned onto the earlier one, as PNG."""
    lesion = selectors.shared_lesion_get(share=share, lesion_id=lesion_id)
    pair = comparison.photo_pair_of_lesion(lesion=lesion, a=request.GET.get("a"), b=request.GET.get("b"))
    try:
        png = comparison.aligned_later_png_cached(pair, layer=request.GET.get("layer", "photo"))
    except comparison.ComparisonBusy as busy:
        response = HttpResponse("Busy drawing other pictures; try again in a moment.", status=429)
        response["Content-Type"] = "text/plain; charset=utf-8"
        response["Retry-After"] = str(busy.retry_after)
        return response
    return HttpResponse(png, content_type="image/png")
