"""The browser fixture of the lesions flows, for the admin's journey in a real browser."""

from lesions.tests.flows.conftest import browser_page  # noqa: F401  (a fixture)
