"""The whole-app test client for security sweeps."""

from tests.fieldcrm.conftest import browser  # noqa: F401  # re-exported fixture
