from django.apps import AppConfig
from django_otp.plugins.otp_static import apps as otp_static_apps
from django_otp.plugins.otp_totp import apps as otp_totp_apps


class AccountsConfig(AppConfig):
    default = True  # this module holds other apps' configs too: "accounts" in INSTALLED_APPS means this one
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401  (connects the security log receivers)


# django-otp's apps have no names of their own, so the admin showed their labels (OTP_TOTP,
# OTP_STATIC) to an operator; these are the same apps, named. The label stays, and with it the
# tables and migrations.
class AuthenticatorAppsConfig(otp_totp_apps.DefaultConfig):
    default = False
    verbose_name = "Two-factor: authenticator apps"


class RecoveryCodesConfig(otp_static_apps.DefaultConfig):
    default = False
    verbose_name = "Two-factor: recovery codes"
