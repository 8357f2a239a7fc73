"""Fixtures of the telemetry tests: the whole-app test client and a broker-sync recorder."""

from tests.fieldcrm.conftest import browser  # noqa: F401
from tests.telemetry.view_factories import broker_syncs  # noqa: F401
