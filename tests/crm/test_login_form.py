"""The login form says what is missing in words, keeps the e-mail and never the password."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.crm.factories import make_user
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser

browser = web.browser


def test_a_missing_email_is_asked_for_next_to_the_field(browser: Browser) -> None:
    page = browser.post(
        "/login",
        data={"email": " ", "password": "secret-typed", "csrf_token": browser.csrf_token()},
    )

    assert page.status_code == 422
    assert '<p class="field-error" id="email-error">Enter your e-mail address</p>' in page.text
    assert "Some fields are missing" not in page.text
    assert "secret-typed" not in page.text


def test_a_wrong_password_keeps_the_email_and_says_so_on_top(browser: Browser, db: Session) -> None:
    user = make_user(db)

    page = browser.post(
        "/login",
        data={"email": user.email, "password": "wrong-guess", "csrf_token": browser.csrf_token()},
    )

    assert page.status_code == 401
    assert "There is a problem" in page.text
    assert "Wrong e-mail or password." in page.text
    assert f'value="{user.email}"' in page.text
    assert "wrong-guess" not in page.text
