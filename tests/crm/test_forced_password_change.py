"""A password someone else chose (staff created the account or reset it) is changed at the
first login before anything else: pages go to the change page, the API answers 403 with
password_change_required (issue 13, finding 7)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from crm import service
from crm.models import OrgKind
from crm.schemas import UserCreate
from crm.service import principal_of
from tests.crm.account_helpers import NEW_PASSWORD, post_form
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser

browser = web.browser
CHOSEN_BY_ADMIN = "chosen by the admin 1"


def _created_by_staff(db: Session) -> str:
    maker = make_org(db, kind=OrgKind.MANUFACTURER)
    admin = principal_of(make_user(db, org=maker, role=Role.ADMIN))
    user = service.create_user(
        db,
        actor=admin,
        data=UserCreate(
            org_id=maker.id,
            email="new.dispatcher@example.test",
            full_name="New Dispatcher",
            role=Role.DISPATCHER,
            password=CHOSEN_BY_ADMIN,
        ),
    )
    assert user.must_change_password
    return user.email


def _log_in(browser: Browser, email: str, password: str) -> str:
    response = browser.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": browser.csrf_token()},
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_every_page_and_the_api_wait_until_the_password_is_changed(
    browser: Browser, db: Session
) -> None:
    email = _created_by_staff(db)

    assert _log_in(browser, email, CHOSEN_BY_ADMIN) == "/settings/password"
    for path in ("/staff", "/settings", "/notifications", "/login"):
        refused = browser.get(path)
        assert refused.status_code == 303, path
        assert refused.headers["location"] == "/settings/password", path
    api = browser.get("/api/me/preferences")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "password_change_required"
    htmx = browser.get("/notifications/badge", headers={"HX-Request": "true"})
    assert htmx.headers["hx-redirect"] == "/settings/password"
    page = browser.get("/settings/password")
    assert page.status_code == 200
    assert "Choose your own password" in page.text
    assert 'href="/staff"' not in page.text  # no way out but the form (and logging out)
    assert "/notifications/badge" not in page.text

    changed = post_form(
        browser,
        "/settings/password",
        {
            "current_password": CHOSEN_BY_ADMIN,
            "new_password": NEW_PASSWORD,
            "repeat_password": NEW_PASSWORD,
        },
    )

    assert changed.status_code == 303
    assert browser.get("/staff").status_code == 200
    assert browser.get("/api/me/preferences").status_code == 200


def test_the_api_changes_a_forced_password_too(browser: Browser, db: Session) -> None:
    email = _created_by_staff(db)
    _log_in(browser, email, CHOSEN_BY_ADMIN)

    done = browser.post(
        "/api/me/password",
        json={"current_password": CHOSEN_BY_ADMIN, "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": browser.csrf_token("/settings/password")},
    )

    assert done.status_code == 204
    assert browser.get("/api/me/preferences").status_code == 200


def test_a_password_staff_set_for_someone_must_be_changed_but_ones_own_need_not(
    browser: Browser, db: Session
) -> None:
    maker = make_org(db, kind=OrgKind.MANUFACTURER)
    admin = principal_of(make_user(db, org=maker, role=Role.ADMIN))
    user = make_user(db, org=maker, role=Role.DISPATCHER)
    assert not user.must_change_password  # made by the system (the seed, the tests)

    service.set_password(db, actor=admin, user_id=user.id, password=CHOSEN_BY_ADMIN)
    assert user.must_change_password
    assert _log_in(browser, user.email, CHOSEN_BY_ADMIN) == "/settings/password"

    service.set_password(db, actor=principal_of(user), user_id=user.id, password=PASSWORD)
    assert not user.must_change_password
    service.set_password(db, actor=SYSTEM, user_id=user.id, password=PASSWORD)
    assert user.must_change_password  # the system is not the user either
