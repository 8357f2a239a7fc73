"""Fixtures of the crm tests."""

from tests.fieldcrm.conftest import browser  # noqa: F401  # re-exported fixture
