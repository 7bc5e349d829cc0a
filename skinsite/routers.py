"""How the API is routed: every endpoint is a viewset, registered on one `ApiRouter` in skinsite.urls.

Apart from skinsite.api because DRF imports that module for its settings (the pagination class),
and DRF's routers import its views, which read those settings.
"""

from django.urls import URLPattern, URLResolver
from rest_framework.routers import DefaultRouter, Route, SimpleRouter
from rest_framework.viewsets import ViewSetMixin


class _PathRouter(SimpleRouter):
    """Django path() routes, with the single route and named collections `ApiRouter` describes."""

    single = Route(
        url="{prefix}{trailing_slash}",
        mapping={"get": "retrieve", "post": "create", "put": "update", "patch": "partial_update", "delete": "destroy"},
        name="{basename}",
        detail=False,
        initkwargs={},
    )

    def __init__(self) -> None:
        super().__init__(use_regex_path=False)

    def get_routes(self, viewset: type[ViewSetMixin]) -> list[Route]:
        if getattr(viewset, "single_route", False):
            return [self.single]
        list_name = getattr(viewset, "list_route_name", None)
        return [
            route._replace(name=list_name) if list_name and route.name == "{basename}-list" else route
            for route in super().get_routes(viewset)
        ]


class ApiRouter:
    """The API's one router: skinsite.urls registers every app's viewsets on it.

    DRF's routes (a collection at `prefix/`, an item at `prefix/{lookup}/`, their `@action`s),
    and two things a viewset may declare so that no URL or URL name changed when every endpoint
    became a viewset:

    - `single_route = True`: one route at `prefix/`, with no collection and no id (the account,
      its export, registering, logging in), named `basename`: get → retrieve, post → create,
      patch → partial_update, delete → destroy.
    - `list_route_name`: the collection route's name where it is not `<basename>-list`.

    A single route, or a viewset with a path converter (`lookup_value_converter = "int"`), gets
    Django path() routes: its URLs match what `<int:…>` matches, and the schema types their
    parameters like every `<int:…>` (settings.SPECTACULAR_SETTINGS). The viewsets with DRF's
    regex lookup (lesions, photos, tokens) keep DefaultRouter's routes: their `.json` format
    suffixes and their place in the API root at /api/, as they always had.
    """

    def __init__(self) -> None:
        self._regex = DefaultRouter()
        self._path = _PathRouter()

    def register(self, prefix: str, viewset: type[ViewSetMixin], basename: str) -> None:
        typed = getattr(viewset, "single_route", False) or hasattr(viewset, "lookup_value_converter")
        (self._path if typed else self._regex).register(prefix, viewset, basename)

    @property
    def urls(self) -> list[URLPattern | URLResolver]:
        return [*self._path.urls, *self._regex.urls]
