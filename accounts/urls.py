from django.urls import include, path

from accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("settings/", views.account_settings, name="account-settings"),
    path("delete/", views.account_delete, name="account-delete"),
    # login, logout, password_change, password_reset and their confirmations
    path("", include("django.contrib.auth.urls")),
]
