"""Every sharing page: the patient's (under /lesions/) and the physician's report (/r/<token>/, then /report/<id>/).

Included by skinsite/urls.py at the root with the namespace "sharing".
"""

from django.urls import path

from sharing import report_views, views

app_name = "sharing"
urlpatterns = [
    # The patient's side (login required).
    path("lesions/<int:lesion_id>/share/", views.lesion_share_create, name="share"),
    path("lesions/<int:lesion_id>/report.pdf", views.lesion_report_pdf, name="lesion-report-pdf"),
    path("lesions/shares/", views.share_list, name="shares"),
    path("lesions/shares/new/", views.account_share_create, name="share-all"),
    path("lesions/shares/<int:share_id>/revoke/", views.share_revoke, name="share-revoke"),
    path("lesions/report.pdf", views.account_report_pdf, name="account-report-pdf"),
    # The physician's side: no login. The token (from the email) opens a report session, then
    # every page works from that session, with no token in its URL.
    path("r/<str:token>/", report_views.report_open, name="report-open"),
    path("report/<int:share_id>/", report_views.report, name="report"),
    path("report/<int:share_id>/report.pdf", report_views.report_pdf, name="report-pdf"),
    path("report/<int:share_id>/lesions/<int:lesion_id>/notes/", report_views.report_note, name="report-note"),
    path("report/<int:share_id>/lesions/<int:lesion_id>/compare/", report_views.report_compare, name="report-compare"),
    path(
        "report/<int:share_id>/lesions/<int:lesion_id>/compare/image/",
        report_views.report_compare_image,
        name="report-compare-image",
    ),
    path(
        "report/<int:share_id>/photos/<int:photo_id>/image/", report_views.report_photo_image, name="report-photo-image"
    ),
    path(
        "report/<int:share_id>/photos/<int:photo_id>/thumbnail/",
        report_views.report_photo_thumbnail,
        name="report-photo-thumbnail",
    ),
    path(
        "report/<int:share_id>/photos/<int:photo_id>/heatmap/",
        report_views.report_photo_heatmap,
        name="report-photo-heatmap",
    ),
]
