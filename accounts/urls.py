from django.urls import include, path

from accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("settings/", views.account_settings, name="account-settings"),
    path("settings/coin/", views.account_coin, name="account-coin"),
    path("delete/", views.account_delete, name="account-delete"),
    path("devices/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.login_code, name="login-code"),
    path("two-factor/", views.two_factor_settings, name="two-factor"),
    path("confirm/<str:token>/", views.email_confirm, name="email-confirm"),
    path("confirm-resend/", views.email_confirmation_resend, name="email-confirm-resend"),
    path("password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    # Before Django's own: these also revoke every device token.
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    # login, logout, password_change, password_reset and their confirmations
    path("", include("django.contrib.auth.urls")),
]
