"""The crm JSON API: authentication and tenant isolation over HTTP."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.crm.factories import PASSWORD, make_asset, make_org, make_user
from tests.fieldcrm.conftest import Browser


def test_anonymous_api_call_gets_401_json(browser: Browser) -> None:
    response = browser.get("/api/crm/assets")
    assert response.status_code == 401
    assert response.json()["error"]["code"]


def test_customer_lists_only_own_assets_and_cannot_read_others(
    browser: Browser, db: Session
) -> None:
    mine, theirs = make_org(db), make_org(db)
    own = make_asset(db, owner=mine)
    foreign = make_asset(db, owner=theirs)
    browser.log_in(make_user(db, org=mine).email, PASSWORD)
    assert [a["id"] for a in browser.get("/api/crm/assets").json()] == [own.id]
    assert browser.get(f"/api/crm/assets/{own.id}").json()["serial"] == own.serial
    hidden = browser.get(f"/api/crm/assets/{foreign.id}")
    missing = browser.get("/api/crm/assets/999999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"


def test_customer_sees_only_own_organization(browser: Browser, db: Session) -> None:
    mine = make_org(db)
    make_org(db)
    browser.log_in(make_user(db, org=mine).email, PASSWORD)
    assert [o["id"] for o in browser.get("/api/crm/organizations").json()] == [mine.id]
