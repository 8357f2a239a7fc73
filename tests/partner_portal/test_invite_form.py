"""The "Add a colleague" form: a bad value comes back next to its field with the input kept."""

from __future__ import annotations

import re

from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import User
from tests.crm.factories import PASSWORD
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.contract_factories import Partner, make_partner
from tests.service_orders.page_factories import htmx_token

browser = web.browser
_LIBRARY_WORDS = ("Field required", "String should", "Some fields are missing", "value is not")


def _invite(browser: Browser, partner: Partner, htmx: bool = False, **data: str) -> Response:
    browser.log_in(partner.admin.email, PASSWORD)
    if htmx:
        headers = {**htmx_token(browser, "/portal/users"), "HX-Target": "invite_form"}
        return browser.post("/portal/users", data=data, headers=headers)
    return browser.post(
        "/portal/users", data={"csrf_token": browser.csrf_token("/portal/users"), **data}
    )


def _error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert found, f"no error next to {field}"
    return found.group(1)


def _users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def test_a_missing_name_and_a_bad_email_come_back_next_to_their_fields(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)
    before = _users(db)

    page = _invite(browser, partner, full_name="  ", email="nea-at-example")

    assert page.status_code == 422
    text = page.text
    assert "There is a problem" in text
    assert '<a href="#full_name">Enter their full name</a>' in text
    assert '<a href="#email">Enter an e-mail address like name@example.com</a>' in text
    assert _error_of(text, "full_name") == "Enter their full name"
    assert _error_of(text, "email") == "Enter an e-mail address like name@example.com"
    assert 'value="nea-at-example"' in text  # the input is kept
    assert partner.member.email in text  # the rest of the page is still there
    assert not [words for words in _LIBRARY_WORDS if words in text]
    assert _users(db) == before


def test_an_email_in_use_is_refused_next_to_the_email_field(browser: Browser, db: Session) -> None:
    partner = make_partner(db)

    page = _invite(browser, partner, full_name="Nea Berg", email=partner.member.email.upper())

    assert page.status_code == 422
    assert _error_of(page.text, "email") == "A user with this e-mail already exists."
    assert 'value="Nea Berg"' in page.text


def test_a_too_long_name_says_the_limit(browser: Browser, db: Session) -> None:
    partner = make_partner(db)

    page = _invite(browser, partner, full_name="N" * 201, email="nea@example.test")

    assert page.status_code == 422
    assert _error_of(page.text, "full_name") == "Enter at most 200 characters"
    assert 'value="nea@example.test"' in page.text


def test_htmx_gets_only_the_form_back_with_its_errors(browser: Browser, db: Session) -> None:
    partner = make_partner(db)

    page = _invite(browser, partner, htmx=True, full_name="", email="nea@example.test")

    assert page.status_code == 422
    assert page.text.lstrip().startswith('<form id="invite_form"')
    assert "<html" not in page.text
    assert _error_of(page.text, "full_name") == "Enter their full name"
    assert 'value="nea@example.test"' in page.text


def test_htmx_invitation_says_it_was_sent_in_the_page_content(
    browser: Browser, db: Session
) -> None:
    partner = make_partner(db)

    page = _invite(browser, partner, htmx=True, full_name="Nea Berg", email="nea@example.test")

    assert page.status_code == 200
    assert page.headers["hx-retarget"] == "#content"
    assert "We sent Nea Berg an invitation to" in page.text
    assert "Invitations not answered yet" in page.text
    assert "<html" not in page.text


def test_the_fields_show_their_limits(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    browser.log_in(partner.admin.email, PASSWORD)

    page = browser.get("/portal/users").text

    assert 'name="full_name" type="text" value="" maxlength="200"' in page
    assert 'name="email" type="email" value="" maxlength="320"' in page
    assert "Up to 200 characters." in page
