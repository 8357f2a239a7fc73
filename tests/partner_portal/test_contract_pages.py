"""The contracts and users pages, in the whole app with a logged-in browser."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.roles import Role
from crm.models import OrgKind
from ledger.models import AnchorRequest
from partner_portal.models import ContractStatus, ContractTemplate, DistributorContract, TierChange
from tests.crm.factories import PASSWORD, make_org, make_user
from tests.fieldcrm import conftest as web
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.contract_factories import make_offer, make_partner

browser = web.browser  # the whole-app client fixture (this folder has no conftest re-exporting it)


def _log_in_staff(browser: Browser, db: Session) -> None:
    admin = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=Role.ADMIN)
    browser.log_in(admin.email, PASSWORD)


def test_the_partner_admin_reads_and_accepts_an_offer(browser: Browser, db: Session) -> None:
    partner = make_partner(db, name="Alpine Valves GmbH")
    contract = make_offer(db, partner)
    browser.log_in(partner.admin.email, PASSWORD)

    listing = browser.get("/portal/contracts")
    assert listing.status_code == 200
    assert f'href="/portal/contracts/{contract.id}"' in listing.text
    assert "No contract is in force yet." in listing.text

    page = browser.get(f"/portal/contracts/{contract.id}")
    assert "I accept on behalf of Alpine Valves GmbH" in page.text
    assert "Distribution agreement between ACME and Alpine Valves GmbH" in page.text

    token = browser.csrf_token(f"/portal/contracts/{contract.id}")
    unticked = browser.post(f"/portal/contracts/{contract.id}/accept", data={"csrf_token": token})
    assert unticked.status_code == 422
    assert "Tick the box" in unticked.text

    accepted = browser.post(
        f"/portal/contracts/{contract.id}/accept", data={"csrf_token": token, "confirm": "yes"}
    )
    assert accepted.status_code == 303
    db.refresh(contract)
    assert contract.status == ContractStatus.ACCEPTED

    page = browser.get(f"/portal/contracts/{contract.id}")
    assert f"/verify/{contract.anchor_request_id}" in page.text
    assert "I accept on behalf" not in page.text
    pdf = browser.get(f"/portal/contracts/{contract.id}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == contract.pdf
    assert db.get(AnchorRequest, contract.anchor_request_id) is not None


def test_an_ordinary_partner_user_reads_but_cannot_accept(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    contract = make_offer(db, partner)
    browser.log_in(partner.member.email, PASSWORD)

    page = browser.get(f"/portal/contracts/{contract.id}")
    assert page.status_code == 200
    assert "I accept on behalf" not in page.text
    token = browser.csrf_token(f"/portal/contracts/{contract.id}")
    refused = browser.post(
        f"/portal/contracts/{contract.id}/accept", data={"csrf_token": token, "confirm": "yes"}
    )
    assert refused.status_code == 403
    db.refresh(contract)
    assert contract.status == ContractStatus.OFFERED


def test_the_pdf_of_an_offer_not_yet_accepted_is_not_found(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    contract = make_offer(db, partner)
    browser.log_in(partner.admin.email, PASSWORD)
    assert browser.get(f"/portal/contracts/{contract.id}/pdf").status_code == 404


def test_staff_write_a_template_version_and_offer_it(browser: Browser, db: Session) -> None:
    partner = make_partner(db, name="Baltic Compressors")
    _log_in_staff(browser, db)

    page = browser.get("/staff/partners/contracts")
    assert page.status_code == 200
    assert "{{ distributor_name }}" in page.text  # the placeholders help
    token = browser.csrf_token("/staff/partners/contracts")
    saved = browser.post(
        "/staff/partners/contracts",
        data={
            "csrf_token": token,
            "name": "Reseller terms",
            "body": "Hello {{ distributor_name }}",
        },
    )
    assert saved.status_code == 303
    template = db.scalar(select(ContractTemplate).where(ContractTemplate.name == "Reseller terms"))
    assert template is not None
    assert template.version == 1

    refused = browser.post(
        "/staff/partners/contracts",
        data={"csrf_token": token, "name": "Reseller terms", "body": "{{ ''.__class__ }}"},
    )
    assert refused.status_code == 422

    detail = browser.get(f"/staff/partners/distributors/{partner.org.id}")
    assert detail.status_code == 200
    assert "Reseller terms v1" in detail.text
    offered = browser.post(
        f"/staff/partners/distributors/{partner.org.id}/offers",
        data={"csrf_token": token, "template_id": template.id, "valid_from": "2026-02-01"},
    )
    assert offered.status_code == 303
    contract = db.scalar(
        select(DistributorContract).where(DistributorContract.distributor_org_id == partner.org.id)
    )
    assert contract is not None
    assert (contract.body, contract.valid_from) == ("Hello Baltic Compressors", date(2026, 2, 1))

    listing = browser.get("/staff/partners/distributors")
    assert "Baltic Compressors" in listing.text
    assert "v1" in listing.text


def test_staff_change_a_tier_with_a_reason(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    _log_in_staff(browser, db)
    token = browser.csrf_token(f"/staff/partners/distributors/{partner.org.id}")
    changed = browser.post(
        f"/staff/partners/distributors/{partner.org.id}/tier",
        data={"csrf_token": token, "tier": "platinum", "reason": "Strategic partner"},
    )
    assert changed.status_code == 303
    change = db.scalar(select(TierChange).where(TierChange.org_id == partner.org.id))
    assert change is not None
    assert (change.from_tier, change.to_tier, change.reason) == (
        "gold",
        "platinum",
        "Strategic partner",
    )
    assert "Strategic partner" in browser.get(f"/staff/partners/distributors/{partner.org.id}").text


def test_staff_withdraw_an_open_offer(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    contract = make_offer(db, partner)
    _log_in_staff(browser, db)
    page = browser.get(f"/portal/contracts/{contract.id}")  # staff read every contract
    assert f'href="/staff/partners/distributors/{partner.org.id}"' in page.text
    token = browser.csrf_token(f"/staff/partners/distributors/{partner.org.id}")
    response = browser.post(
        f"/staff/partners/contracts/{contract.id}/withdraw", data={"csrf_token": token}
    )
    assert response.status_code == 303
    db.refresh(contract)
    assert contract.status == ContractStatus.WITHDRAWN


def test_the_users_page_is_read_only_for_a_partner_user(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    browser.log_in(partner.member.email, PASSWORD)
    page = browser.get("/portal/users")
    assert page.status_code == 200
    assert partner.admin.email in page.text
    assert "Add a colleague" not in page.text
    assert "Deactivate" not in page.text


def test_pages_fit_a_phone(browser: Browser, db: Session) -> None:
    partner = make_partner(db)
    make_offer(db, partner)
    browser.log_in(partner.admin.email, PASSWORD)
    for path in ("/portal/contracts", "/portal/users"):
        page = browser.get(path)
        assert 'name="viewport"' in page.text
        assert 'class="table-scroll"' in page.text
        assert "style=" not in page.text
        assert "<script>" not in page.text
