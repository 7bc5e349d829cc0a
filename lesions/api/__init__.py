"""REST API for lesions, photos and their analyses (see the API section of README.md), by resource.

`lesions`: lesions, their timeline and their photos compared (`comparisons`: the compare answer);
`photos`: photos and their files; `analyses`: an analysis as every answer shows it; `export`:
everything a patient gave us, under /api/account/export/. skinsite.urls routes the viewsets.

Nothing is imported here: the modules import one another, and a package that imported them back
would make a circle (skinsite.tests.test_import_cycles).
"""
