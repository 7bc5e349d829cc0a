"""Accounts over the API: registration, device tokens, the account itself and its deletion.

Routed by skinsite.urls. The export of everything a patient gave us gathers lesions and photos, so
it lives with them (`lesions.api.export`, still under /api/account/export/).
"""

from typing import cast

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from accounts import lockout, services, tokens, two_factor
from accounts.models import ApiToken, SecurityEvent, User
from skinsite.throttles import RegisterThrottle, TokenThrottle

# --- Serializers ------------------------------------------------------------------------------


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(
        write_only=True, style={"input_type": "password"}, help_text="Checked against the password rules."
    )


class RegisteredSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True,
        help_text=(
            "Always null: the answer is the same whether the address already had an account, so it "
            "names none. After logging in, `GET /api/account/` gives the account's id."
        ),
    )
    email = serializers.EmailField(help_text="The address as stored: lower case.")


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=cast(int, tokens.NAME_MAX_LENGTH),  # the model field's, which has one
        help_text='The device, e.g. "Alice\'s phone"; defaults to the User-Agent. Shown in the token list.',
    )
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="For accounts with two-factor authentication: the authenticator app's code, or a recovery code.",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown only this once.")
    id = serializers.IntegerField(help_text="The token's id in `/api/auth/tokens/`, to revoke it.")
    name = serializers.CharField()


class ApiTokenSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="True for the token this request was made with.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "last_used_at", "current"]
        read_only_fields = fields

    def get_current(self, token: ApiToken) -> bool:
        auth = getattr(self.context.get("request"), "auth", None)
        return isinstance(auth, ApiToken) and auth.pk == token.pk


class AccountSerializer(serializers.ModelSerializer):
    coin_diameter_mm = serializers.FloatField(
        read_only=True, allow_null=True, help_text="The chosen coin's diameter in mm; null when none is chosen."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "birth_year",
            "sex",
            "coin",
            "coin_other_mm",
            "coin_diameter_mm",
            "date_joined",
        ]
        read_only_fields = ["id", "email", "date_joined"]
        # The serializer only ever takes a PATCH (partial), so `required` only tells the schema
        # that an answer always holds these fields, as it did when they were read-only.
        extra_kwargs = {
            "display_name": {"required": True},
            # The model's validate_birth_year checks 1900 to this year and says so in words; the
            # column's own bounds (0 to 32767) would only answer first with another message.
            "birth_year": {"required": True, "min_value": None, "max_value": None},
            "sex": {"required": True},
            "coin": {
                "required": True,
                "help_text": "The coin you lay beside a lesion for its size in mm (photos uploaded with `coin` "
                "`mine` take it): a key of the coin table (`eur_1`, `usd_25c`, `gbp_1`...), `other` with "
                "`coin_other_mm`, or an empty string for none.",
            },
            "coin_other_mm": {"required": True, "help_text": "With `coin` `other`: its diameter in mm."},
        }


class AccountDeleteSerializer(serializers.Serializer):
    password = serializers.CharField(
        write_only=True, style={"input_type": "password"}, help_text="The account's password, to confirm."
    )

    def validate_password(self, value: str) -> str:
        if not self.context["request"].user.check_password(value):
            raise serializers.ValidationError("That is not your password.")
        return value


# --- Views ------------------------------------------------------------------------------------


def api_user(request: Request) -> User:
    """The user of a request the permissions let through: the default, IsAuthenticated, admits only a user."""
    return cast(User, request.user)


class RegisterViewSet(viewsets.ViewSet):
    single_route = True  # POST /api/auth/register/
    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle, RegisterThrottle]

    @extend_schema(
        request=RegisterSerializer,
        responses={201: RegisteredSerializer},
        summary="Create an account",
        description=(
            "A weak password or a malformed address answers 400. Otherwise the answer is 201 whether or "
            "not the address already had an account, so nobody learns which addresses do: a new address "
            "gets an account and a confirmation link; the owner of a taken one gets an email saying so, "
            "with a link to reset the password, and the account is unchanged."
        ),
    )
    def create(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # A weak password: the service's ValidationError, by field, answered 400 by
        # skinsite.api.exception_handler like every service error. A taken address: the same 201.
        services.user_sign_up(email=data["email"], password=data["password"])
        email = User.objects.normalize_email(data["email"]).lower()
        return Response({"id": None, "email": email}, status=status.HTTP_201_CREATED)


class TokenViewSet(viewsets.ViewSet):
    single_route = True  # POST /api/auth/token/
    authentication_classes: list[type[BaseAuthentication]] = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle, TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer},
        summary="Log in: get a token for this device",
        description=(
            "Each call issues a new token; a wrong email or password answers 400. An account with "
            "two-factor authentication also needs `code`. Repeated failures lock the account's log-in "
            "for a while (429)."
        ),
    )
    def create(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        email = data["email"].lower()
        # The same per-account and per-address lock-out as the web log-in (accounts.lockout).
        wait = lockout.login_locked_for(request=request, email=email)
        if wait:
            raise exceptions.Throttled(wait, detail=lockout.locked_message(wait))
        user = authenticate(request, username=email, password=data["password"])
        if user is None:
            locked = lockout.login_failure_record(request=request, email=email)
            if locked:
                raise exceptions.Throttled(locked, detail=lockout.locked_message(locked))
            raise serializers.ValidationError({"non_field_errors": ["Email or password is wrong."]})
        code = data.get("code", "")
        if (
            two_factor.two_factor_enabled(user)
            and two_factor.two_factor_verify(user=user, code=code, request=request) is None
        ):
            locked = lockout.login_failure_record(request=request, email=email)
            if locked:
                raise exceptions.Throttled(locked, detail=lockout.locked_message(locked))
            raise serializers.ValidationError(
                {"code": ["This account has two-factor authentication: send the code from the authenticator app."]}
            )
        lockout.login_success_record(request=request, email=email)
        name = data.get("name") or request.headers.get("User-Agent", "")
        token_obj, key = tokens.token_create(user=user, name=name)
        services.security_event_record(
            user=user, kind=SecurityEvent.Kind.NEW_DEVICE, request=request, detail=token_obj.name
        )
        return Response({"token": key, "id": token_obj.pk, "name": token_obj.name})


@extend_schema_view(
    list=extend_schema(summary="The account's tokens, one per device", description="Newest first."),
    destroy=extend_schema(
        summary="Revoke a token",
        description="The device holding it is cut off at once (a lost phone). Another user's token is 404.",
    ),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = ApiToken.objects.none()  # the model, for the schema generator; get_queryset() scopes
    serializer_class = ApiTokenSerializer

    def get_queryset(self) -> QuerySet[ApiToken]:
        return tokens.tokens_for_user(user=api_user(self.request))

    def perform_destroy(self, instance: ApiToken) -> None:
        tokens.token_revoke(token=instance)
        services.security_event_record(
            user=api_user(self.request),
            kind=SecurityEvent.Kind.DEVICE_REVOKED,
            request=self.request,
            detail=instance.name,
        )


class _DeleteWithBodySchema(AutoSchema):
    """Documents the password that DELETE /api/account/ takes as its confirmation.

    drf-spectacular describes request bodies only for POST, PUT and PATCH.
    """

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class AccountViewSet(viewsets.ViewSet):
    """The caller's own account."""

    single_route = True  # /api/account/: there is one, the caller's
    schema = _DeleteWithBodySchema()

    @extend_schema(responses={200: AccountSerializer}, summary="The account")
    def retrieve(self, request: Request) -> Response:
        return Response(AccountSerializer(request.user).data)

    @extend_schema(
        request=AccountSerializer,
        responses={200: AccountSerializer},
        summary="Change the display name, year of birth, sex or coin",
        description=(
            "Send only what changes. Year of birth and sex are optional extra inputs to the photo "
            "analysis; `null` clears the year and an empty string the sex. A year outside 1900 to "
            "this year answers 400. `coin` is the coin you lay beside a lesion for its size in mm."
        ),
    )
    def partial_update(self, request: Request) -> Response:
        serializer = AccountSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        coin = {key: fields.pop(key) for key in ("coin", "coin_other_mm") if key in fields}
        user = api_user(request)
        with transaction.atomic():
            if fields:
                user = services.user_update(user=user, **fields)
            if coin:
                user = services.user_coin_set(
                    user=user,
                    coin=coin.get("coin", user.coin),
                    coin_other_mm=coin.get("coin_other_mm", user.coin_other_mm),
                )
        return Response(AccountSerializer(user).data)

    @extend_schema(
        request=AccountDeleteSerializer,
        responses={204: OpenApiResponse(description="Deleted.")},
        summary="Delete the account",
        description=(
            "Deletes the user, every lesion, photo (the files leave storage) and analysis, and every "
            "token. Needs the password in the body; a wrong one answers 400 and deletes nothing."
        ),
    )
    def destroy(self, request: Request) -> Response:
        AccountDeleteSerializer(data=request.data, context={"request": request}).is_valid(raise_exception=True)
        services.user_delete(user=api_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
