"""Fixtures of the service-order page and API tests: the whole-app client, offer and photo fakes."""

from tests.fieldcrm.conftest import browser  # noqa: F401
from tests.service_orders.page_factories import photo_dir, published  # noqa: F401
