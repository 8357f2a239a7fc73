"""The web shell end to end through the real app: login, CSRF, roles, sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.models import WebSession
from core.auth.roles import Role
from core.config import get_settings
from crm.models import OrgKind
from tests.crm.factories import PASSWORD, make_asset, make_org, make_user
from tests.fieldcrm.conftest import Browser

ROLE_HOMES = {
    Role.ADMIN: "/staff",
    Role.DISPATCHER: "/staff",
    Role.ENGINEER: "/engineer",
    Role.DISTRIBUTOR: "/portal",
    Role.CUSTOMER: "/customer",
}
_ORG_OF_ROLE = {
    Role.ADMIN: OrgKind.MANUFACTURER,
    Role.DISPATCHER: OrgKind.MANUFACTURER,
    Role.ENGINEER: OrgKind.MANUFACTURER,
    Role.DISTRIBUTOR: OrgKind.DISTRIBUTOR,
    Role.CUSTOMER: OrgKind.CUSTOMER,
}


def _user_with_role(db: Session, role: Role) -> str:
    user = make_user(db, org=make_org(db, kind=_ORG_OF_ROLE[role]), role=role)
    return user.email


def test_post_without_csrf_token_is_refused(browser: Browser, db: Session) -> None:
    email = _user_with_role(db, Role.CUSTOMER)
    browser.get("/login")
    response = browser.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 403
    assert "expired" in response.text.lower()
    assert db.scalar(select(WebSession)) is None


def test_post_with_a_forged_csrf_token_is_refused(browser: Browser, db: Session) -> None:
    email = _user_with_role(db, Role.CUSTOMER)
    browser.get("/login")
    response = browser.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": "0" * 64}
    )
    assert response.status_code == 403


def test_login_lands_on_the_role_home_with_a_safe_cookie(browser: Browser, db: Session) -> None:
    email = _user_with_role(db, Role.DISPATCHER)
    response = browser.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": browser.csrf_token()}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("fieldcrm_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert browser.get("/staff").status_code == 200


def test_login_voids_the_forms_seen_before_it_and_logout_voids_the_session_forms(
    browser: Browser, db: Session
) -> None:
    email = _user_with_role(db, Role.DISPATCHER)
    before = browser.csrf_token()
    old_cookie = browser.cookies["fieldcrm_csrf"]
    response = browser.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": before},
        follow_redirects=False,
    )
    assert browser.cookies["fieldcrm_csrf"] != old_cookie  # rotated at login
    assert any(
        k == "set-cookie" and v.startswith("fieldcrm_csrf=")
        for k, v in response.headers.multi_items()
    )

    stale = browser.post("/logout", data={"csrf_token": before}, follow_redirects=False)
    assert stale.status_code == 403
    assert "This form has expired" in stale.text
    during = browser.csrf_token("/staff")
    assert during != before
    assert browser.post("/logout", data={"csrf_token": during}).status_code == 303

    assert (
        browser.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": during}
        ).status_code
        == 403
    )


def test_login_returns_to_the_page_asked_for_but_never_off_site(
    browser: Browser, db: Session
) -> None:
    email = _user_with_role(db, Role.CUSTOMER)
    token = browser.csrf_token()
    response = browser.post(
        "/login",
        data={
            "email": email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/customer"


def test_wrong_password_says_so_and_repeated_failures_are_throttled(
    browser: Browser, db: Session
) -> None:
    email = _user_with_role(db, Role.CUSTOMER)
    token = browser.csrf_token()
    for _ in range(get_settings().login_max_failures):
        response = browser.post(
            "/login", data={"email": email, "password": "wrong-password", "csrf_token": token}
        )
        assert response.status_code == 401
        assert "Wrong e-mail or password." in response.text
    response = browser.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_anonymous_visitor_is_sent_to_login(browser: Browser) -> None:
    response = browser.get("/staff")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fstaff"


@pytest.mark.parametrize("role", list(Role))
def test_a_role_cannot_reach_another_roles_page(browser: Browser, db: Session, role: Role) -> None:
    browser.log_in(_user_with_role(db, role), PASSWORD)
    assert browser.get(ROLE_HOMES[role]).status_code == 200
    for other in {path for r, path in ROLE_HOMES.items() if path != ROLE_HOMES[role]}:
        response = browser.get(other)
        assert response.status_code == 403, f"{role} reached {other}"
        assert "only" in response.text


def test_customer_home_lists_only_own_devices(browser: Browser, db: Session) -> None:
    mine, theirs = make_org(db), make_org(db)
    own = make_asset(db, owner=mine, serial="MINE-001")
    make_asset(db, owner=theirs, serial="THEIRS-001")
    browser.log_in(make_user(db, org=mine).email, PASSWORD)
    page = browser.get("/customer").text
    assert own.serial in page
    assert "THEIRS-001" not in page


def test_htmx_request_for_the_content_block_gets_a_fragment(browser: Browser, db: Session) -> None:
    browser.log_in(_user_with_role(db, Role.CUSTOMER), PASSWORD)
    full = browser.get("/customer")
    fragment = browser.get("/customer", headers={"HX-Request": "true", "HX-Target": "content"})
    assert "<html" in full.text
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "My devices" in fragment.text


def test_logout_ends_the_session(browser: Browser, db: Session) -> None:
    browser.log_in(_user_with_role(db, Role.CUSTOMER), PASSWORD)
    token = browser.csrf_token("/customer")
    response = browser.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert db.scalar(select(WebSession)) is None
    assert browser.get("/customer").status_code == 303


def test_healthz_reports_the_database(browser: Browser) -> None:
    assert browser.get("/healthz").json() == {"status": "ok", "database": "ok"}
