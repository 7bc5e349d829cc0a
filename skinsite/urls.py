"""Root URLs: pages, the REST API under /api/, and the admin."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from education import api as education_api
from lesions.api import dermatoscopes as dermatoscopes_api
from lesions.api import export as export_api
from lesions.api import lesions as lesions_api
from lesions.api import photos as photos_api
from sharing import api as sharing_api
from skinsite import health, metrics
from skinsite.routers import ApiRouter

# Every endpoint of the API is a viewset routed here (how: skinsite.routers.ApiRouter). Lesions,
# photos and tokens first: the API root at /api/ lists them, in this order.
router = ApiRouter()
router.register("lesions", lesions_api.LesionViewSet, basename="api-lesion")
router.register("photos", photos_api.PhotoViewSet, basename="api-photo")
router.register("dermatoscopes", dermatoscopes_api.DermatoscopeViewSet, basename="api-dermatoscope")
router.register("auth/tokens", accounts_api.ApiTokenViewSet, basename="api-device-token")
router.register("auth/register", accounts_api.RegisterViewSet, basename="api-register")
router.register("auth/token", accounts_api.TokenViewSet, basename="api-token")
router.register("account", accounts_api.AccountViewSet, basename="api-account")
router.register("account/export", export_api.AccountExportViewSet, basename="api-account-export")
router.register("conditions", education_api.ConditionViewSet, basename="api-condition")
router.register("lesions/<int:lesion_id>/shares", sharing_api.LesionSharesViewSet, basename="api-lesion-shares")
router.register("shares", sharing_api.ShareViewSet, basename="api-share")

api_urlpatterns: list[URLPattern | URLResolver] = [
    # The OpenAPI schema (generated from the code) and Swagger UI from our own static files.
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico where a page names no icon (a PDF, a JSON answer): the SVG one."""
    return redirect(static("skinsite/favicon.svg"), permanent=True)


urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("accounts/", include("accounts.urls")),
    path("lesions/", include("lesions.urls")),
    path("learn/", include("education.urls")),
    path("", include("sharing.urls")),  # the patient's shares under lesions/, physicians' reports under r/
    path("api/", include(api_urlpatterns)),
    path("admin/", admin.site.urls),
    # For load balancers and Prometheus: no login, no session (skinsite.health, skinsite.metrics).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
]

handler400 = "skinsite.api.bad_request"  # JSON for bodies refused under /api/
handler404 = "skinsite.api.not_found"  # JSON for unknown URLs under /api/
