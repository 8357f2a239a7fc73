"""Another distributor sees none of A's contracts or users; partners stay out of staff pages."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.capabilities import has_capability
from crm.models import Capability
from partner_portal.models import ContractStatus, DistributorProfile
from tests.crm.factories import PASSWORD
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.contract_factories import (
    Partner,
    make_offer,
    make_partner,
    make_staff,
    make_template,
)
from tests.telemetry.view_factories import log_in_as

browser = web.browser  # the whole-app client fixture (this folder has no conftest re-exporting it)


def _logged_in_b(browser: Browser, db: Session) -> Partner:
    b = make_partner(db)
    browser.log_in(b.admin.email, PASSWORD)
    return b


def test_distributor_b_gets_404_for_each_of_as_contract_pages(
    browser: Browser, db: Session
) -> None:
    a = make_partner(db)
    contract = make_offer(db, a)
    _logged_in_b(browser, db)
    token = browser.csrf_token("/portal/contracts")

    assert browser.get(f"/portal/contracts/{contract.id}").status_code == 404
    assert browser.get(f"/portal/contracts/{contract.id}/pdf").status_code == 404
    accept = browser.post(
        f"/portal/contracts/{contract.id}/accept", data={"csrf_token": token, "confirm": "yes"}
    )
    assert accept.status_code == 404
    db.refresh(contract)
    assert contract.status == ContractStatus.OFFERED


def test_distributor_b_gets_404_for_user_changes_in_a(browser: Browser, db: Session) -> None:
    a = make_partner(db)
    _logged_in_b(browser, db)
    token = browser.csrf_token("/portal/users")

    for path, data in (
        (f"/portal/users/{a.member.id}/active", {"active": "no"}),
        (f"/portal/users/{a.admin.id}/active", {"active": "no"}),
        (f"/portal/users/{a.member.id}/admin", {"admin": "yes"}),
        (f"/portal/users/{a.admin.id}/admin", {"admin": "no"}),
    ):
        assert browser.post(path, data={"csrf_token": token, **data}).status_code == 404, path
    db.refresh(a.member)
    assert a.member.is_active
    assert not has_capability(db, user_id=a.member.id, capability=Capability.PARTNER_ADMIN)
    assert has_capability(db, user_id=a.admin.id, capability=Capability.PARTNER_ADMIN)
    assert a.member.email not in browser.get("/portal/users").text


@pytest.mark.parametrize(
    "path",
    [
        "/staff/partners/distributors",
        "/staff/partners/distributors/{org}",
        "/staff/partners/contracts",
    ],
)
def test_partners_cannot_open_staff_pages(browser: Browser, db: Session, path: str) -> None:
    b = _logged_in_b(browser, db)
    assert browser.get(path.format(org=b.org.id)).status_code == 403


def test_partners_cannot_write_through_staff_routes(browser: Browser, db: Session) -> None:
    b = _logged_in_b(browser, db)
    template = make_template(db, staff=make_staff(db))
    offer = make_offer(db, b)
    token = browser.csrf_token("/portal/contracts")
    for path, data in (
        ("/staff/partners/contracts", {"name": "Mine", "body": "Free goods"}),
        (
            f"/staff/partners/distributors/{b.org.id}/offers",
            {"template_id": str(template.id), "valid_from": "2026-01-01"},
        ),
        (f"/staff/partners/contracts/{offer.id}/withdraw", {}),
    ):
        assert browser.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    db.refresh(offer)
    assert offer.status == ContractStatus.OFFERED


def test_partners_cannot_change_their_tier(browser: Browser, db: Session) -> None:
    b = _logged_in_b(browser, db)
    response = browser.post(
        f"/staff/partners/distributors/{b.org.id}/tier",
        data={
            "csrf_token": browser.csrf_token("/portal/contracts"),
            "tier": "platinum",
            "reason": "we deserve it",
        },
    )
    assert response.status_code == 403
    profile = db.get(DistributorProfile, b.org.id)
    assert profile is not None
    db.refresh(profile)
    assert profile.tier == "gold"


def test_customers_see_no_contract(browser: Browser, db: Session) -> None:
    contract = make_offer(db, make_partner(db))
    log_in_as(browser, db, Role.CUSTOMER)
    assert browser.get(f"/portal/contracts/{contract.id}").status_code == 404
    assert browser.get("/portal/contracts").status_code == 403
