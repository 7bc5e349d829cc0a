"""The patient's side of sharing: make, list and revoke links, and download the PDF report.

Every view is owner-scoped through the selectors: another patient's lesion or link is 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.selectors import account_can_send_email
from lesions import selectors as lesion_selectors
from lesions.models import Lesion
from sharing import selectors, services
from sharing.forms import ShareForm
from sharing.pdf import report_pdf_build


def _share_create(request: AuthenticatedHttpRequest, lesion: Lesion | None) -> HttpResponse:
    initial = {"expires_in_days": services.DEFAULT_EXPIRY_DAYS, "patient_name": request.user.display_name}
    form = ShareForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                share, token = services.share_link_create(
                    owner=request.user, lesion=lesion, request=request, **form.cleaned_data
                )
            except services.EmailNotConfirmed as exc:
                form.add_error(None, exc.messages)
                status = 403
            except services.ShareLimitReached as exc:
                form.add_error(None, exc.messages)
                status = 429
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                # Rendered, not redirected: the link is shown this once and never goes into a cookie.
                context = {"share": share, "url": selectors.share_link_url(token), "lesion": lesion}
                return render(request, "sharing/share_created.html", context)
    context = {"form": form, "lesion": lesion, "can_send_email": account_can_send_email(request.user)}
    return render(request, "sharing/share_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lesion_share_create(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    """Share one lesion's report with a physician."""
    return _share_create(request, lesion_selectors.lesion_get(user=request.user, lesion_id=lesion_id))


@login_required
@require_http_methods(["GET", "POST"])
def account_share_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Share a report of all the patient's lesions (including ones added later)."""
    return _share_create(request, None)


@login_required
@require_GET
def share_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    shares = selectors.shares_for_user(user=request.user)
    return render(request, "sharing/share_list.html", {"shares": shares})


@login_required
@require_POST
def share_revoke(request: AuthenticatedHttpRequest, share_id: int) -> HttpResponse:
    share = selectors.share_get(user=request.user, share_id=share_id)
    services.share_link_revoke(share=share, request=request)
    messages.success(request, f"The link for {share.physician_email} no longer works.")
    return redirect("sharing:shares")


def _pdf_response(
    request: AuthenticatedHttpRequest, lesions: QuerySet[Lesion] | list[Lesion], filename: str
) -> HttpResponse:
    sections = selectors.report_sections(lesions=lesions, with_not_assessable=True)  # the patient's own: all photos
    pdf = report_pdf_build(patient_name=request.user.name, sections=sections)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def lesion_report_pdf(request: AuthenticatedHttpRequest, lesion_id: int) -> HttpResponse:
    lesion = lesion_selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    return _pdf_response(request, [lesion], f"skinsite-lesion-{lesion.pk}.pdf")


@login_required
@require_GET
def account_report_pdf(request: AuthenticatedHttpRequest) -> HttpResponse:
    lesions = lesion_selectors.lesions_for_user(user=request.user).order_by("name", "pk")
    return _pdf_response(request, lesions, "skinsite-report.pdf")
