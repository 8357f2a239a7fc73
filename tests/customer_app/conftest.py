"""Fixtures of the customer app tests: the whole-app client and a temporary photo store."""

from tests.fieldcrm.conftest import browser  # noqa: F401
from tests.service_orders.page_factories import photo_dir  # noqa: F401
