"""Everything a patient gave us, as one ZIP: GET /api/account/export/.

It gathers lesions and photos, so it lives with them rather than in accounts, which knows no
lesions; the URL stays under the account's.
"""

import tempfile

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from accounts.api import api_user
from lesions.export import account_export
from skinsite.api import FileContentNegotiation
from skinsite.throttles import ExportThrottle


class AccountExportViewSet(viewsets.ViewSet):
    single_route = True  # GET /api/account/export/: the caller's
    throttle_classes = [UserRateThrottle, ExportThrottle]
    content_negotiation_class = FileContentNegotiation

    @extend_schema(
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The ZIP.")},
        summary="Download everything: a ZIP of lesions, photos and analyses",
        description=(
            "`lesions.json` holds the lesions, their photos and every analysis of each photo; "
            "`photos/<id>.jpg` the photos; `account.json` the account."
        ),
    )
    def retrieve(self, request: Request) -> FileResponse:
        # A temporary file, not memory: the ZIP holds every photo. FileResponse closes (deletes) it.
        out = tempfile.TemporaryFile()  # noqa: SIM115
        account_export(user=api_user(request), out=out)
        out.seek(0)
        filename = f"skinsite-export-{timezone.localdate():%Y-%m-%d}.zip"
        return FileResponse(out, as_attachment=True, filename=filename, content_type="application/zip")
