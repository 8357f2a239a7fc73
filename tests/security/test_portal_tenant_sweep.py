"""Distributor B gets 404 for every partner-portal URL naming one of distributor A's records,
and no partner can use the staff pages that write tiers, rates or statement status.

The routes come from the app's route table: a new portal route with an id in its path fails
here until `portal_sweep_data.PARAMETERS` says which of A's records the id names.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from crm.models import User
from fieldcrm.app import create_app
from tests.crm.factories import PASSWORD
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.contract_factories import make_partner
from tests.partner_portal.library_factories import PDF, upload_dir  # noqa: F401  # fixture
from tests.security.portal_sweep_data import TenantA, build_tenant_a, fingerprint, url_variants

pytestmark = pytest.mark.usefixtures("upload_dir")

_PARAM = re.compile(r"\{([^}]+)\}")
PORTAL_PREFIXES = ("/portal", "/api/partner", "/notifications")
STAFF_PREFIX = "/staff/partners"
NOT_2XX_OR_3XX = {403, 404}


def _routes() -> list[tuple[str, str]]:
    found = []
    pending = list(create_app().routes)
    while pending:
        route = pending.pop()
        if isinstance(route, APIRoute):
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        pending += list(included.routes) if included is not None else []
        pending += getattr(route, "routes", [])
    return sorted(set(found))


ROUTES = _routes()
PORTAL_WITH_IDS = [(m, p) for m, p in ROUTES if p.startswith(PORTAL_PREFIXES) and "{" in p]
STAFF = [(m, p) for m, p in ROUTES if p.startswith(STAFF_PREFIX)]


def _form(a: TenantA) -> dict[str, str]:
    """Every field a portal or staff form reads, valid, so a refusal comes from who asks."""
    return {
        # portal forms
        "confirm": "yes",
        "active": "no",
        "admin": "no",
        "position_s": "5",
        "completed": "true",
        "subject": "Revised chillers",
        "message": "",
        "product_model_id": str(a.product.id),
        "quantity": "1",
        # staff forms: tiers, rates, statements, contracts, library
        "tier": "platinum",
        "reason": "raise myself",
        "org_id": str(a.partner.org.id),
        "silver": "0",
        "gold": "1",
        "platinum": "2",
        "currency": "EUR",
        "period_end": "2026-03-31",
        "period_start": "2026-04-01",
        "name": "Partner's own program",
        "period_kind": "quarter",
        "measure": "net_value",
        "calculation": "retroactive",
        "lower": "0",
        "upper": "",
        "rate": "50",
        "template_id": str(a.accepted_contract.template_id),
        "valid_from": "2026-01-01",
        "body": "I may do anything.",
        "title": "Partner upload",
        "category": "price list",
    }


def _log_in(browser: Browser, user: User) -> dict[str, str]:
    """Log in as the user; the CSRF header their pages' forms send."""
    browser.cookies.clear()
    browser.log_in(user.email, PASSWORD)
    return {"X-CSRF-Token": browser.csrf_token("/portal")}


def _request(browser: Browser, method: str, url: str, headers: dict[str, str], a: TenantA) -> int:
    if method == "GET":
        return int(browser.get(url).status_code)
    upload = {"file": ("partner.pdf", PDF, "application/pdf")}
    response = browser.request(method, url, data=_form(a), files=upload, headers=headers)
    return int(response.status_code)


def test_the_sweep_sees_every_kind_of_portal_url() -> None:
    paths = {p for _, p in PORTAL_WITH_IDS}
    assert "/portal/statements/{statement_id}/pdf" in paths
    assert "/api/partner/statements/{statement_id}" in paths
    assert "/portal/documents/{document_id}/versions/{version_id}/download" in paths
    assert "/portal/training/{video_id}/stream" in paths
    assert "/portal/inquiries/{inquiry_id}/quote.pdf" in paths
    assert "/portal/contracts/{contract_id}/accept" in paths
    assert "/portal/users/{user_id}/active" in paths
    assert "/notifications/{notification_id}/read" in paths
    staff = {(m, p) for m, p in STAFF}
    assert ("POST", "/staff/partners/distributors/{org_id}/tier") in staff
    assert ("POST", "/staff/partners/tiers/rules") in staff
    assert ("POST", "/staff/partners/statements/{statement_id}/paid") in staff


@pytest.mark.parametrize(
    ("method", "path"), PORTAL_WITH_IDS, ids=[f"{m} {p}" for m, p in PORTAL_WITH_IDS]
)
def test_another_distributor_gets_404_for_a_records(
    browser: Browser, db: Session, method: str, path: str
) -> None:
    a = build_tenant_a(db)
    b = make_partner(db)
    db.commit()  # a refused request rolls back its own savepoint only, not A's records
    urls = url_variants(path, _PARAM.findall(path), a)

    if method == "GET":
        _log_in(browser, a.partner.admin)
        own = browser.get(urls[0]).status_code
        assert own != 404, f"A's own admin gets 404 for {urls[0]}: the sweep proves nothing"

    before = fingerprint(db, a.partner.org.id, b.org.id)
    refused_wrongly = []
    for who, user in (("B's user", b.member), ("B's partner admin", b.admin)):
        headers = _log_in(browser, user)
        for url in urls:
            status = _request(browser, method, url, headers, a)
            if status != 404:
                refused_wrongly.append(f"{who}: {method} {url} -> {status}")
    assert not refused_wrongly, "must be 404:\n" + "\n".join(refused_wrongly)
    assert fingerprint(db, a.partner.org.id, b.org.id) == before, f"{method} {path} changed A"


@pytest.mark.parametrize(("method", "path"), STAFF, ids=[f"{m} {p}" for m, p in STAFF])
def test_partners_cannot_use_staff_partner_pages(
    browser: Browser, db: Session, method: str, path: str
) -> None:
    """Not even on their own records: no tier, rate, statement or contract change."""
    a = build_tenant_a(db)
    db.commit()
    urls = url_variants(path, _PARAM.findall(path), a)
    before = fingerprint(db, a.partner.org.id)
    allowed = []
    for who, user in (("A's user", a.partner.member), ("A's partner admin", a.partner.admin)):
        headers = _log_in(browser, user)
        for url in urls:
            status = _request(browser, method, url, headers, a)
            if status not in NOT_2XX_OR_3XX:
                allowed.append(f"{who}: {method} {url} -> {status}")
    assert not allowed, "must refuse partners with 403 or 404:\n" + "\n".join(allowed)
    assert fingerprint(db, a.partner.org.id) == before, f"{method} {path} changed A's records"


def test_pickups_posted_for_another_distributor_are_404(browser: Browser, db: Session) -> None:
    """The ERP API names the distributor in its body: A's id from B is not found."""
    a = build_tenant_a(db)
    b = make_partner(db)
    db.commit()
    before = fingerprint(db, a.partner.org.id, b.org.id)
    headers = _log_in(browser, b.admin)
    line = {
        "picked_on": "2026-02-03",
        "product_code": a.product.code,
        "quantity": "1",
        "net_value": "100000",
        "currency": "EUR",
        "document_number": "B-SNEAK-1",
        "line_no": 1,
    }
    response = browser.post(
        "/api/partner/pickups",
        json={"distributor_org_id": a.partner.org.id, "lines": [line]},
        headers=headers,
    )
    assert response.status_code == 404
    assert fingerprint(db, a.partner.org.id, b.org.id) == before


def test_the_fingerprint_sees_a_owners_writes(browser: Browser, db: Session) -> None:
    """The control: the same forms from A's own partner admin do change A's records, so an
    unchanged fingerprint above means B changed nothing (not that nothing was looked at)."""
    a = build_tenant_a(db)
    db.commit()
    headers = _log_in(browser, a.partner.admin)
    writes = [
        f"/portal/contracts/{a.offered_contract.id}/accept",
        f"/portal/inquiries/{a.open_inquiry.id}/withdraw",
        f"/portal/documents/{a.document.id}/acknowledge",
        f"/portal/training/{a.video.id}/progress",
        f"/notifications/{a.notifications[1].id}/read",
        f"/portal/users/{a.partner.member.id}/active",
    ]
    for url in writes:
        before = fingerprint(db, a.partner.org.id)
        status = _request(browser, "POST", url, headers, a)
        assert status < 400, f"A's own admin: POST {url} -> {status}"
        assert fingerprint(db, a.partner.org.id) != before, f"the fingerprint missed POST {url}"
