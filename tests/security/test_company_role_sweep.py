"""The company profile's routes by role: administrators write, staff read, partners, customers
and engineers get nothing. Every route of the profile is named here, from the route table."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.company import letterhead_of, manufacturer_org_id
from crm.models import Organization, OrgKind
from tests.crm.company_factories import logo_png
from tests.crm.factories import make_org
from tests.fieldcrm.conftest import Browser
from tests.security.test_route_sweep import _routes
from tests.telemetry.view_factories import log_in_as

PREFIXES = ("/staff/company", "/api/crm/company")
ADMIN_WRITES = {("POST", "/staff/company"), ("PUT", "/api/crm/company")}
STAFF_READS = {
    ("GET", "/staff/company"),
    ("GET", "/staff/company/logo.png"),
    ("GET", "/api/crm/company"),
}
ROUTES = sorted(ADMIN_WRITES | STAFF_READS)
_HOME = {Role.DISTRIBUTOR: "/portal", Role.CUSTOMER: "/customer", Role.ENGINEER: "/engineer"}
_FORM = {"legal_name": "Taken Over Ltd", "vat_id": "DE999999999", "quote_valid_days": "1"}


def _request(browser: Browser, method: str, path: str, token: str) -> int:
    headers = {"X-CSRF-Token": token}
    if method == "GET":
        return int(browser.get(path).status_code)
    if path.startswith("/api/"):
        return int(browser.request(method, path, json=_FORM, headers=headers).status_code)
    files = {"logo": ("logo.png", logo_png(), "image/png")}
    return int(browser.request(method, path, data=_FORM, files=files, headers=headers).status_code)


def _manufacturer(db: Session) -> Organization:
    make_org(db, kind=OrgKind.MANUFACTURER)
    return db.get_one(Organization, manufacturer_org_id(db))


def test_every_company_profile_route_is_in_the_table() -> None:
    found = {(m, p) for m, p in _routes() if p.startswith(PREFIXES) and m != "HEAD"}
    assert found == ADMIN_WRITES | STAFF_READS


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@pytest.mark.parametrize("role", [Role.DISTRIBUTOR, Role.CUSTOMER, Role.ENGINEER])
def test_no_one_but_staff_uses_a_company_profile_route(
    browser: Browser, db: Session, method: str, path: str, role: Role
) -> None:
    before = letterhead_of(db, _manufacturer(db).id)
    log_in_as(browser, db, role)
    status = _request(browser, method, path, browser.csrf_token(_HOME[role]))
    assert status in {403, 404}, f"{role}: {method} {path} -> {status}"
    assert letterhead_of(db, manufacturer_org_id(db)) == before


@pytest.mark.parametrize(
    ("method", "path"), sorted(ADMIN_WRITES), ids=[f"{m} {p}" for m, p in sorted(ADMIN_WRITES)]
)
def test_a_dispatcher_cannot_change_the_profile(
    browser: Browser, db: Session, method: str, path: str
) -> None:
    org = _manufacturer(db)
    before = letterhead_of(db, org.id)
    log_in_as(browser, db, Role.DISPATCHER, org=org)
    status = _request(browser, method, path, browser.csrf_token("/staff"))
    assert status == 403, f"dispatcher: {method} {path} -> {status}"
    assert letterhead_of(db, org.id) == before


@pytest.mark.parametrize(
    ("method", "path"), sorted(ADMIN_WRITES), ids=[f"{m} {p}" for m, p in sorted(ADMIN_WRITES)]
)
def test_the_control_an_administrator_does_change_it(
    browser: Browser, db: Session, method: str, path: str
) -> None:
    org = _manufacturer(db)
    log_in_as(browser, db, Role.ADMIN, org=org)
    status = _request(browser, method, path, browser.csrf_token("/staff"))
    assert status in {200, 303}, f"admin: {method} {path} -> {status}"
    assert letterhead_of(db, org.id).legal_name == "Taken Over Ltd"
