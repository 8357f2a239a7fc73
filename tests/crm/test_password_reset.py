"""Forgot your password: a neutral answer, an e-mailed single-use link that expires (only its
hash stored), every session ended by the reset; in development the mail waits on /dev/outbox
(issue 13, finding 7)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.auth.models import PasswordResetToken
from core.config import get_settings
from core.db import utcnow
from crm.service.accounts import RESET_REQUESTS_FREE
from tests.crm.account_helpers import (
    NEW_PASSWORD,
    another_browser,
    link_in,
    mails_to,
    post_form,
    sessions_of,
)
from tests.crm.factories import PASSWORD, make_user
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser

browser = web.browser


def _ask(browser: Browser, email: str) -> str:
    page = post_form(browser, "/password/forgot", {"email": email})
    assert page.status_code == 200, page.text
    return page.text.replace(email, "<address>")


def test_the_login_page_links_to_forgot_password(browser: Browser) -> None:
    assert 'href="/password/forgot"' in browser.get("/login").text
    assert "Send me a link" in browser.get("/password/forgot").text


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    browser: Browser, db: Session
) -> None:
    user = make_user(db)

    known = _ask(browser, user.email)
    unknown = _ask(browser, "nobody-here@example.test")

    assert known == unknown
    assert "we have sent it a link" in known
    assert len(mails_to(db, user.email)) == 1
    assert mails_to(db, "nobody-here@example.test") == []


def test_the_link_sets_a_new_password_once_and_ends_every_session(
    browser: Browser, db: Session
) -> None:
    user = make_user(db)
    logged_in = another_browser(browser)
    logged_in.log_in(user.email, PASSWORD)
    _ask(browser, user.email)
    (mail,) = mails_to(db, user.email)
    path = link_in(mail)
    token = path.rsplit("/", 1)[1]
    stored = db.scalars(select(PasswordResetToken.token_hash)).all()
    assert token not in stored  # only its hash

    form = browser.get(path)
    assert form.status_code == 200
    assert user.email in form.text
    done = post_form(browser, path, {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD})

    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert sessions_of(db, user) == 0
    assert logged_in.get("/settings").headers["location"].startswith("/login")
    again = browser.get(path)
    assert again.status_code == 404
    assert "This link no longer works" in again.text
    browser.log_in(user.email, NEW_PASSWORD)


def test_a_used_or_expired_link_sets_nothing(browser: Browser, db: Session) -> None:
    user = make_user(db)
    _ask(browser, user.email)
    path = link_in(mails_to(db, user.email)[0])
    db.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.flush()
    hash_before = user.password_hash

    refused = post_form(
        browser,
        path,
        {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
        page="/password/forgot",
    )

    assert refused.status_code == 404
    db.refresh(user)
    assert user.password_hash == hash_before


def test_a_newer_link_voids_the_older_one(browser: Browser, db: Session) -> None:
    user = make_user(db)
    _ask(browser, user.email)
    _ask(browser, user.email)
    newer, older = (link_in(mail) for mail in mails_to(db, user.email))

    assert browser.get(older).status_code == 404
    assert browser.get(newer).status_code == 200


def test_requests_for_one_address_are_slowed_after_a_few(browser: Browser, db: Session) -> None:
    for _ in range(RESET_REQUESTS_FREE):
        _ask(browser, "someone@example.test")

    slowed = post_form(browser, "/password/forgot", {"email": "someone@example.test"})

    assert slowed.status_code == 429
    assert "Too many requests for a new password" in slowed.text


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FIELDCRM_ENV", "production")
    monkeypatch.setenv("FIELDCRM_ALLOW_HTTP", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_outbox_shows_the_mail_in_development(browser: Browser, db: Session) -> None:
    user = make_user(db)
    _ask(browser, user.email)

    page = browser.get("/dev/outbox", params={"to": user.email})

    assert page.status_code == 200
    assert "Choose a new password for fieldcrm" in page.text
    assert f'<a href="{get_settings().resolved_public_url()}/password/reset/' in page.text


@pytest.mark.usefixtures("production")
def test_production_has_no_outbox_and_keeps_no_mail(browser: Browser, db: Session) -> None:
    user = make_user(db)
    _ask(browser, user.email)

    assert browser.get("/dev/outbox").status_code == 404
    assert mails_to(db, user.email) == []
