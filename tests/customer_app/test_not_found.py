"""Addresses of the customer's pages that name nothing get the not-found page, nav intact."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tests.customer_app.factories import log_in_customer, make_customer
from tests.fieldcrm.conftest import Browser


def test_a_device_address_that_is_not_a_number_is_not_found(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)

    response = browser.get("/customer/devices/abc")

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert "There is no page at this address." in response.text
    assert "Not Found" not in response.text
    assert re.search(
        r'<a href="/customer" aria-current="page">(<svg .*?</svg>)?My devices</a>', response.text
    )
