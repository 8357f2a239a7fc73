"""Fixtures of the partner-portal page and API tests: the whole-app client."""

from tests.fieldcrm.conftest import browser  # noqa: F401
