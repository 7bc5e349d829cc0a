"""The patient's side of sharing: make, list and revoke links, download the PDF, set reminders.

Every view is owner-scoped through the selectors: another patient's lesion or link is 404.
The unsubscribe page is the one exception to login: its signed link is the authorisation.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lesions import reminders, selectors, sharing
from lesions.models import Lesion
from lesions.report_pdf import report_pdf_build


class ShareForm(forms.Form):
    physician_email = forms.EmailField(
        label="Physician's email address",
        error_messages={"invalid": "Enter the physician's email address, like name@clinic.example."},
    )
    expires_in_days = forms.IntegerField(
        label="Link valid for (days)",
        initial=sharing.DEFAULT_EXPIRY_DAYS,
        min_value=sharing.MIN_EXPIRY_DAYS,
        max_value=sharing.MAX_EXPIRY_DAYS,
        error_messages={
            "min_value": f"A link can last from {sharing.MIN_EXPIRY_DAYS} to {sharing.MAX_EXPIRY_DAYS} days.",
            "max_value": f"A link can last from {sharing.MIN_EXPIRY_DAYS} to {sharing.MAX_EXPIRY_DAYS} days.",
            "invalid": "Enter a whole number of days.",
        },
        help_text=f"From {sharing.MIN_EXPIRY_DAYS} to {sharing.MAX_EXPIRY_DAYS} days. You can revoke it at any time.",
    )
    message = forms.CharField(
        label="Message (optional)",
        required=False,
        max_length=sharing.MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    notify_on_new_analysis = forms.BooleanField(
        label="Email the physician when I add a photo", required=False, help_text="Until the link expires."
    )


class RecheckForm(forms.Form):
    recheck_interval_months = forms.TypedChoiceField(
        label="Remind me to photograph it again",
        choices=Lesion._meta.get_field("recheck_interval_months").choices,
        coerce=int,
    )


def _share_create(request: HttpRequest, lesion: Lesion | None) -> HttpResponse:
    form = ShareForm(request.POST or None, initial={"expires_in_days": sharing.DEFAULT_EXPIRY_DAYS})
    if request.method == "POST" and form.is_valid():
        try:
            share, token = sharing.share_link_create(owner=request.user, lesion=lesion, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            # Rendered, not redirected: the link is shown this once and never goes into a cookie.
            context = {"share": share, "url": sharing.share_link_url(token), "lesion": lesion}
            return render(request, "sharing/share_created.html", context)
    status = 400 if request.method == "POST" else 200
    return render(request, "sharing/share_form.html", {"form": form, "lesion": lesion}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lesion_share_create(request: HttpRequest, lesion_id: int) -> HttpResponse:
    """Share one lesion's report with a physician."""
    return _share_create(request, selectors.lesion_get(user=request.user, lesion_id=lesion_id))


@login_required
@require_http_methods(["GET", "POST"])
def account_share_create(request: HttpRequest) -> HttpResponse:
    """Share a report of all the patient's lesions (including ones added later)."""
    return _share_create(request, None)


@login_required
@require_GET
def share_list(request: HttpRequest) -> HttpResponse:
    shares = sharing.shares_for_user(user=request.user)
    return render(request, "sharing/share_list.html", {"shares": shares})


@login_required
@require_POST
def share_revoke(request: HttpRequest, share_id: int) -> HttpResponse:
    share = sharing.share_get(user=request.user, share_id=share_id)
    sharing.share_link_revoke(share=share)
    messages.success(request, f"The link for {share.physician_email} no longer works.")
    return redirect("lesions:shares")


def _pdf_response(request: HttpRequest, lesions, filename: str) -> HttpResponse:
    pdf = report_pdf_build(patient_name=request.user.name, sections=sharing.report_sections(lesions=lesions))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def lesion_report_pdf(request: HttpRequest, lesion_id: int) -> HttpResponse:
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    return _pdf_response(request, [lesion], f"skinsite-lesion-{lesion.pk}.pdf")


@login_required
@require_GET
def account_report_pdf(request: HttpRequest) -> HttpResponse:
    lesions = selectors.lesions_for_user(user=request.user).order_by("name", "pk")
    return _pdf_response(request, lesions, "skinsite-report.pdf")


@login_required
@require_POST
def lesion_recheck(request: HttpRequest, lesion_id: int) -> HttpResponse:
    lesion = selectors.lesion_get(user=request.user, lesion_id=lesion_id)
    form = RecheckForm(request.POST)
    if form.is_valid():
        months = form.cleaned_data["recheck_interval_months"]
        reminders.lesion_recheck_interval_set(lesion=lesion, months=months)
        if months and not request.user.reminders_enabled:
            messages.warning(request, "Saved, but reminder emails are turned off in your account settings.")
        else:
            messages.success(request, "Saved." if months else "No more reminders for this lesion.")
    else:
        messages.error(request, "Choose how often to be reminded from the list.")
    return redirect(lesion)


# Mail clients' one-click unsubscribe (RFC 8058) POSTs without a CSRF token; the signature is the check.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def reminders_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a page that submits itself; POST turns reminders off. No login needed.

    A GET changes nothing because mail scanners follow links in emails.
    """
    user = reminders.user_from_unsubscribe_token(token)
    if user is None:
        return render(request, "sharing/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        reminders.reminders_unsubscribe(user=user)
        return render(request, "sharing/unsubscribe.html", {"done": True})
    return render(request, "sharing/unsubscribe.html", {"token": token})
