"""What a view knows of a request once `login_required` has let it through."""

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a logged-in account: the annotation for views behind `login_required`.

    For type checking only, never made: Django hands every view an `HttpRequest` whose `user` is a
    `User` or an `AnonymousUser`; the decorator rules out the second, which mypy cannot see. This is
    the pattern the django-stubs documentation gives.
    """

    user: User
