"""The customer's forms keep what was typed, say what is wrong next to the field, and send a
successful request on to its page (a refresh there sends nothing again)."""

from __future__ import annotations

import re
from pathlib import Path

from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from customer_app.models import SatisfactionSurvey
from service_orders.models import WorkOrder
from tests.customer_app.factories import (
    Customer,
    engineer_for,
    log_in_customer,
    make_customer,
    order_in,
)
from tests.fieldcrm.conftest import Browser

_NEW = "/customer/service/new"


def _error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert found, f"no error next to {field}"
    return found.group(1)


def _request(browser: Browser, customer: Customer, *, htmx: bool, **fields: str) -> Response:
    """The service request as the browser sends it: multipart, the token in the header."""
    headers = {"X-CSRF-Token": browser.csrf_token(_NEW)}
    if htmx:
        headers |= {"HX-Request": "true", "HX-Target": "request_form"}
    data = {"asset_id": str(customer.asset_id), "priority": "degraded", **fields}
    files = [("photos", ("", b"", "application/octet-stream"))]  # an empty file input
    response: Response = browser.post(_NEW, data=data, files=files, headers=headers)
    return response


def _orders(db: Session, customer: Customer) -> int:
    query = select(func.count()).where(WorkOrder.asset_id == customer.asset_id)
    return db.scalar(query) or 0


def test_a_20000_character_description_is_refused_next_to_the_field(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)

    page = _request(browser, customer, htmx=True, description="x" * 20_000, priority="stopped")

    assert page.status_code == 422
    assert page.text.lstrip().startswith('<form id="request_form"')  # only the form is swapped
    assert "There is a problem" in page.text
    assert _error_of(page.text, "description") == "Enter at most 5,000 characters"
    assert '<a href="#description">Enter at most 5,000 characters</a>' in page.text
    assert "x" * 20_000 + "</textarea>" in page.text  # the text is kept to shorten it
    assert re.search(r'name="priority" value="stopped"[^>]* checked', page.text)
    assert f'<option value="{customer.asset_id}" selected>' in page.text
    assert _orders(db, customer) == 0


def test_a_missing_description_says_so_in_words_on_the_whole_page(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)

    page = _request(browser, customer, htmx=False, description="   ")

    assert page.status_code == 422
    assert "<h1>Request service</h1>" in page.text
    assert _error_of(page.text, "description") == "Describe what is wrong"
    assert "Field required" not in page.text
    assert "Some fields" not in page.text


def test_the_description_shows_its_limit(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)

    page = browser.get(_NEW).text

    assert 'name="description" rows="5" maxlength="5000" required' in page
    assert "Up to 5,000 characters." in page


def test_a_sent_request_redirects_to_its_page_and_a_refresh_sends_nothing_again(
    browser: Browser, db: Session, photo_dir: Path
) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)

    sent = _request(browser, customer, htmx=False, description="The pump hums loudly at night")

    assert sent.status_code == 303
    order = db.scalars(select(WorkOrder).where(WorkOrder.asset_id == customer.asset_id)).one()
    assert sent.headers["location"] == f"/customer/service/{order.id}"
    landed = browser.get(sent.headers["location"])
    assert f"Your request was sent as {order.number}." in landed.text
    refreshed = browser.get(sent.headers["location"])
    assert "Your request was sent" not in refreshed.text  # the message is shown once
    assert _orders(db, customer) == 1


def test_a_forged_flash_message_is_not_shown(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    log_in_customer(browser, customer)
    browser.cookies.set("fieldcrm_flash", "WW91IHdvbg.0000")  # "You won", unsigned

    assert "You won" not in browser.get("/customer/service").text


def _rate(browser: Browser, work_order_id: int, **fields: str) -> Response:
    path = f"/customer/service/{work_order_id}/survey"
    data = {"csrf_token": browser.csrf_token(path), **fields}
    response: Response = browser.post(path, data=data)
    return response


def test_a_survey_without_a_rating_keeps_the_other_answers(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    done = order_in(db, customer, engineer_for(db), "completed")
    log_in_customer(browser, customer)

    page = _rate(browser, done.id, nps="9", comment="Quick and tidy")

    assert page.status_code == 422
    assert "There is a problem" in page.text
    assert _error_of(page.text, "csat") == "Choose how satisfied you are, from 1 to 5"
    assert 'name="nps" value="9" checked' in page.text
    assert "Quick and tidy</textarea>" in page.text
    query = select(SatisfactionSurvey).where(SatisfactionSurvey.work_order_id == done.id)
    assert db.scalar(query) is None


def test_a_rated_visit_says_thank_you_once(browser: Browser, db: Session) -> None:
    customer = make_customer(db)
    done = order_in(db, customer, engineer_for(db), "completed")
    log_in_customer(browser, customer)

    sent = _rate(browser, done.id, csat="5", nps="10")

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/customer/service/{done.id}"
    assert "Thank you for rating the visit." in browser.get(sent.headers["location"]).text
    assert "Thank you for rating" not in browser.get(sent.headers["location"]).text
    again = _rate(browser, done.id, csat="1", nps="0")
    assert again.status_code == 422
    assert "has been rated already" in again.text
