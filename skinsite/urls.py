"""Root URLs: pages, the REST API under /api/, and the admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from education import api as education_api
from lesions import api as lesions_api

router = DefaultRouter()
router.register("lesions", lesions_api.LesionViewSet, basename="api-lesion")
router.register("photos", lesions_api.PhotoViewSet, basename="api-photo")
router.register("auth/tokens", accounts_api.ApiTokenViewSet, basename="api-device-token")

api_urlpatterns = [
    path("auth/register/", accounts_api.register, name="api-register"),
    path("auth/token/", accounts_api.token, name="api-token"),
    path("account/", accounts_api.AccountView.as_view(), name="api-account"),
    path("account/export/", lesions_api.AccountExportView.as_view(), name="api-account-export"),
    # The OpenAPI schema (generated from the code) and Swagger UI from our own static files.
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("conditions/", education_api.condition_list, name="api-condition-list"),
    path("conditions/<slug:code>/", education_api.condition_detail, name="api-condition-detail"),
    path("", include("sharing.api")),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("accounts/", include("accounts.urls")),
    path("lesions/", include("lesions.urls")),
    path("learn/", include("education.urls")),
    path("", include("sharing.urls")),  # the patient's shares under lesions/, physicians' reports under r/
    path("api/", include(api_urlpatterns)),
    path("admin/", admin.site.urls),
]

handler404 = "skinsite.api.not_found"  # JSON for unknown URLs under /api/
