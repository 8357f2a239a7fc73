"""Your own password: changed on Your settings or by the API, knowing the current one; the
other sessions end, this one stays (issue 13, finding 7)."""

from __future__ import annotations

from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.models import LoginFailure
from core.auth.passwords import PASSWORD_RULE
from crm.models import Notification, User
from tests.crm.account_helpers import (
    NEW_PASSWORD,
    another_browser,
    form_error,
    post_form,
    sessions_of,
)
from tests.crm.factories import PASSWORD, make_user
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser

browser = web.browser


def _change(browser: Browser, current: str, new: str, repeat: str | None = None) -> Response:
    data = {"current_password": current, "new_password": new, "repeat_password": repeat or new}
    return post_form(browser, "/settings/password", data)


def test_settings_link_to_the_change_page_which_says_the_rule(
    browser: Browser, db: Session
) -> None:
    user = make_user(db)
    browser.log_in(user.email, PASSWORD)

    assert 'href="/settings/password"' in browser.get("/settings").text
    page = browser.get("/settings/password")

    assert page.status_code == 200
    assert PASSWORD_RULE in page.text
    assert page.headers["cache-control"] == "no-store"


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    browser: Browser, db: Session
) -> None:
    user = make_user(db)
    elsewhere = another_browser(browser)
    elsewhere.log_in(user.email, PASSWORD)
    browser.log_in(user.email, PASSWORD)
    assert sessions_of(db, user) == 2

    changed = _change(browser, PASSWORD, NEW_PASSWORD)

    assert changed.status_code == 303
    assert changed.headers["location"] == "/settings"
    landing = browser.get("/settings")
    assert "Password changed. Your other sessions have ended." in landing.text
    assert sessions_of(db, user) == 1
    assert elsewhere.get("/settings").headers["location"].startswith("/login")
    fresh = another_browser(browser)
    refused = fresh.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": fresh.csrf_token()},
    )
    assert refused.status_code == 401
    fresh.log_in(user.email, NEW_PASSWORD)
    titles = db.scalars(select(Notification.title).where(Notification.user_id == user.id))
    assert "Your password was changed" in list(titles)


def test_a_wrong_current_password_is_refused_next_to_it_and_counts_as_a_failed_login(
    browser: Browser, db: Session
) -> None:
    user = make_user(db)
    browser.log_in(user.email, PASSWORD)
    hash_before = user.password_hash

    page = _change(browser, "not my password", NEW_PASSWORD)

    assert page.status_code == 422
    assert form_error(page.text, "current_password") == "This is not your current password"
    assert NEW_PASSWORD not in page.text
    assert "not my password" not in page.text
    db.refresh(user)
    assert user.password_hash == hash_before
    failures = db.scalar(select(func.count()).where(LoginFailure.email == user.email))
    assert failures == 1


def test_a_short_or_unrepeated_new_password_is_refused_next_to_its_field(
    browser: Browser, db: Session
) -> None:
    user = make_user(db)
    browser.log_in(user.email, PASSWORD)

    short = _change(browser, PASSWORD, "too short")
    differ = _change(browser, PASSWORD, NEW_PASSWORD, repeat=NEW_PASSWORD + "!")
    common = _change(browser, PASSWORD, "passwordpassword")

    assert form_error(short.text, "new_password") == "Use at least 12 characters"
    assert form_error(differ.text, "repeat_password") == "The two new passwords are not the same"
    assert form_error(common.text, "new_password").startswith("This password is among the first")
    db.refresh(user)
    assert browser.get("/settings").status_code == 200  # still logged in


def test_the_api_changes_the_password_and_names_the_wrong_field(
    browser: Browser, db: Session
) -> None:
    user = make_user(db)
    browser.log_in(user.email, PASSWORD)
    headers = {"X-CSRF-Token": browser.csrf_token("/settings")}

    wrong = browser.post(
        "/api/me/password",
        json={"current_password": "nope nope nope", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    weak = browser.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=headers,
    )
    done = browser.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
    )

    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"]["field"] == "current_password"
    assert weak.status_code == 422
    assert weak.json()["error"]["details"]["field"] == "new_password"
    assert done.status_code == 204
    assert browser.get("/api/me/preferences").status_code == 200  # this session stays
    db.refresh(user)
    stored = db.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert NEW_PASSWORD not in stored
