"""REST API for lesions, photos and their analyses (see the API section of README.md), by resource.

`analyses`: an analysis as every answer shows it; `lesions`: lesions, their timeline and their
photos compared (`comparisons` for the compare answer); `photos`: photos and their files;
`export`: everything a patient gave us, under /api/account/export/. skinsite.urls routes the
viewsets.
"""

from lesions.api.export import AccountExportView
from lesions.api.lesions import LesionViewSet
from lesions.api.photos import PhotoViewSet

__all__ = ["AccountExportView", "LesionViewSet", "PhotoViewSet"]
