"""Staff's second factor: set up from a QR code, asked for after the password (a signed
pending token, no session until the code), throttled like passwords, recovery codes once
each; required for staff by FIELDCRM_REQUIRE_STAFF_TOTP (issue 13, finding 7)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pyotp
import pytest
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import RecoveryCode, TotpCredential
from core.auth.roles import Role
from core.config import get_settings
from crm.models import OrgKind, User
from crm.service import principal_of
from crm.service.two_factor import confirm_enrolment, enrolment_secret, has_two_factor
from tests.crm.account_helpers import another_browser, form_error, post_form, sessions_of
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser

browser = web.browser
_TOKEN = re.compile(r'name="token" value="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
_CODES = re.compile(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>")


def _staff(db: Session) -> User:
    return make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.DISPATCHER)


def _enrolled(db: Session) -> tuple[User, pyotp.TOTP]:
    user = _staff(db)
    principal = principal_of(user)
    totp = pyotp.TOTP(enrolment_secret(db, principal=principal))
    confirm_enrolment(db, principal=principal, code=totp.now())
    return user, totp


def _next_code(totp: pyotp.TOTP) -> str:
    """The code of the next 30-second step: the current one was spent by the set-up."""
    return totp.at(time.time() + totp.interval)


def _password_step(browser: Browser, user: User) -> Response:
    return browser.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": browser.csrf_token()},
    )


def _code_step(browser: Browser, first: Response, code: str) -> Response:
    token = _TOKEN.search(first.text)
    assert token, first.text
    return post_form(browser, "/login/code", {"token": token.group(1), "code": code}, page="/login")


def _settings_post(browser: Browser, action: str, data: dict[str, str]) -> Response:
    return post_form(browser, f"/settings/two-factor/{action}", data, page="/settings/two-factor")


def test_setting_up_shows_a_qr_code_and_turns_on_with_a_code_from_the_app(
    browser: Browser, db: Session
) -> None:
    user = _staff(db)
    browser.log_in(user.email, PASSWORD)
    assert 'href="/settings/two-factor"' in browser.get("/settings").text

    page = browser.get("/settings/two-factor")
    assert page.status_code == 200
    assert 'class="totp-qr" src="data:image/svg+xml;base64,' in page.text
    shown = _SECRET.search(page.text)
    assert shown
    totp = pyotp.TOTP(shown.group(1).replace(" ", ""))
    credential = db.get(TotpCredential, user.id)
    assert credential is not None
    assert shown.group(1).replace(" ", "") not in credential.sealed_secret  # sealed, not plain

    wrong = _settings_post(browser, "confirm", {"code": "000000"})
    assert wrong.status_code == 422
    assert form_error(wrong.text, "code").startswith("This code is not right")
    assert not has_two_factor(db, user_id=user.id)

    on = _settings_post(browser, "confirm", {"code": totp.now()})
    assert on.status_code == 200
    assert on.headers["cache-control"] == "no-store"
    codes = _CODES.findall(on.text)
    assert len(codes) == 10
    stored = set(db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert len(stored) == 10
    assert not stored & set(codes)  # kept as hashes only
    assert has_two_factor(db, user_id=user.id)
    assert not _CODES.findall(browser.get("/settings/two-factor").text)  # shown once


def test_login_asks_for_the_code_before_any_session_exists(browser: Browser, db: Session) -> None:
    user, totp = _enrolled(db)

    first = _password_step(browser, user)

    assert first.status_code == 200
    assert "Enter your code" in first.text
    assert sessions_of(db, user) == 0
    assert "set-cookie" not in first.headers or "fieldcrm_session" not in first.headers.get(
        "set-cookie", ""
    )
    assert browser.get("/staff").headers["location"].startswith("/login")  # half-logged-in
    wrong = _code_step(browser, first, "123456")
    assert wrong.status_code == 401
    assert sessions_of(db, user) == 0

    code = _next_code(totp)
    right = _code_step(browser, first, code)
    assert right.status_code == 303
    assert right.headers["location"] == "/staff"
    assert browser.get("/staff").status_code == 200
    assert sessions_of(db, user) == 1

    again = another_browser(browser)
    replayed = _code_step(again, _password_step(again, user), code)
    assert replayed.status_code == 401  # a code is good once


def test_a_recovery_code_logs_in_once(browser: Browser, db: Session) -> None:
    user = _staff(db)
    principal = principal_of(user)
    totp = pyotp.TOTP(enrolment_secret(db, principal=principal))
    recovery = confirm_enrolment(db, principal=principal, code=totp.now())[0]

    used = _code_step(browser, _password_step(browser, user), recovery.upper())
    again = another_browser(browser)
    refused = _code_step(again, _password_step(again, user), recovery)

    assert used.status_code == 303
    assert refused.status_code == 401


def test_wrong_codes_are_slowed_like_wrong_passwords(browser: Browser, db: Session) -> None:
    user, totp = _enrolled(db)
    first = _password_step(browser, user)
    for _ in range(get_settings().login_max_failures):
        assert _code_step(browser, first, "000000").status_code == 401

    slowed = _code_step(browser, first, _next_code(totp))

    assert slowed.status_code == 429
    assert "Too many wrong codes or passwords" in slowed.text
    assert sessions_of(db, user) == 0


def test_a_forged_pending_token_makes_no_session(browser: Browser, db: Session) -> None:
    user, totp = _enrolled(db)
    forged = post_form(
        browser,
        "/login/code",
        {"token": f"{user.id}.forged", "code": _next_code(totp)},
        page="/login",
    )

    assert forged.status_code == 401
    assert "Enter your e-mail and password again" in forged.text
    assert sessions_of(db, user) == 0


def test_turning_it_off_needs_the_password_and_a_code(browser: Browser, db: Session) -> None:
    user = _staff(db)
    principal = principal_of(user)
    totp = pyotp.TOTP(enrolment_secret(db, principal=principal))
    codes = confirm_enrolment(db, principal=principal, code=totp.now())
    assert _code_step(browser, _password_step(browser, user), _next_code(totp)).status_code == 303

    wrong = _settings_post(browser, "disable", {"password": "not my password", "code": "0"})
    assert wrong.status_code == 422
    assert form_error(wrong.text, "password") == "This is not your current password"
    # the login spent the code of the next half-minute: a recovery code does it as well
    off = _settings_post(browser, "disable", {"password": PASSWORD, "code": codes[0]})
    assert off.status_code == 303, off.text
    assert not has_two_factor(db, user_id=user.id)


def test_customers_do_not_get_the_set_up(browser: Browser, db: Session) -> None:
    customer = make_user(db)
    browser.log_in(customer.email, PASSWORD)

    page = browser.get("/settings/two-factor")

    assert "Two-factor authentication is for staff accounts" in page.text
    assert db.get(TotpCredential, customer.id) is None


@pytest.fixture
def totp_required(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FIELDCRM_REQUIRE_STAFF_TOTP", "true")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("totp_required")
def test_where_required_staff_set_it_up_before_anything_else(browser: Browser, db: Session) -> None:
    user = _staff(db)
    customer = make_user(db)

    login = _password_step(browser, user)
    assert login.headers["location"] == "/settings/two-factor"
    assert browser.get("/staff").headers["location"] == "/settings/two-factor"
    api = browser.get("/api/me/preferences")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "two_factor_enrolment_required"
    page = browser.get("/settings/two-factor")
    assert "Set it up now to continue" in page.text
    shown = _SECRET.search(page.text)
    assert shown
    code = pyotp.TOTP(shown.group(1).replace(" ", "")).now()
    on = _settings_post(browser, "confirm", {"code": code})
    assert on.status_code == 200
    assert browser.get("/staff").status_code == 200
    other = another_browser(browser)
    other.log_in(customer.email, PASSWORD)  # not staff: not asked
    assert other.get("/customer").status_code == 200
