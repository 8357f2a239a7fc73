"""The public page of a service report: a logged-in customer keeps their navigation on it."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from service_orders.certificates import issue_certificate
from tests.customer_app.factories import engineer_for, log_in_customer, make_customer, order_in
from tests.fieldcrm.conftest import Browser


def test_a_logged_in_customer_keeps_their_navigation_on_the_certificate_page(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    done = order_in(db, customer, engineer_for(db), "completed")
    certificate = issue_certificate(db, work_order_id=done.id, public_url="http://test")

    anonymous = browser.get(f"/certificates/{certificate.id}").text
    log_in_customer(browser, customer)
    page = browser.get(f"/certificates/{certificate.id}").text

    assert f"<h1>Service report {done.number}</h1>" in anonymous  # public, no login needed
    assert '<a href="/login">Login</a>' in anonymous
    assert re.search(r'<a href="/customer"[^>]*>(<svg .*?</svg>)?My devices</a>', page)
    assert customer.user.full_name in page
    assert '<a href="/login">Login</a>' not in page
    assert "Log out" in page


def test_the_certificate_page_offers_a_check_of_a_copy_before_claiming_anything(
    browser: Browser, db: Session
) -> None:
    customer = make_customer(db)
    done = order_in(db, customer, engineer_for(db), "completed")
    certificate = issue_certificate(db, work_order_id=done.id, public_url="http://test")

    page = browser.get(f"/certificates/{certificate.id}").text

    assert "choose the PDF you received" in page
    assert f'hx-post="/verify/{certificate.anchor_request_id}"' in page
    assert '<h2 id="verify-check-title">Check your copy</h2>' in page
    assert "Valid" not in page
    assert "Verified" not in page
