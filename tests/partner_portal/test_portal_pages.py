"""The distributor's portal pages and finance's partner pages, in the whole app."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.models import OrgKind
from partner_portal.models import DistributorProfile, PickupLine, RebateProgram, StatementStatus
from tests.crm.factories import PASSWORD, make_org, make_product_model, make_user
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.factories import add_pickup, make_distributor
from tests.partner_portal.statement_factories import make_profile, settled_statement

_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=\"", re.I)


def _phone_ready(html: str) -> None:
    assert 'name="viewport"' in html
    assert not _INLINE.search(html), "inline script or style attribute (the CSP refuses them)"
    if "<table" in html:
        assert "table-scroll" in html


def _log_in_admin(browser: Browser, db: Session) -> None:
    admin = make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER))
    browser.log_in(admin.email, PASSWORD)


def test_the_dashboard_is_the_distributors_landing_page(browser: Browser, db: Session) -> None:
    distributor = make_distributor(db)
    make_profile(db, distributor)
    add_pickup(
        db,
        distributor=distributor,
        product=make_product_model(db),
        picked_on=date.today().replace(day=1),
        net_value="1234.50",
    )
    partner = make_user(db, org=distributor)
    browser.log_in(partner.email, PASSWORD)

    assert browser.get("/").headers["location"] == "/portal"
    page = browser.get("/portal")

    assert page.status_code == 200
    _phone_ready(page.text)
    assert distributor.name in page.text
    assert "€1,234.50" in page.text
    assert 'href="/portal/equipment"' in page.text
    assert "/static/partner_portal/rebates_chart.js" in page.text
    assert 'class="rebate-chart" data-chart="{&#34;currency&#34;: &#34;EUR&#34;' in page.text


def test_pickups_list_filter_upload_and_template(browser: Browser, db: Session) -> None:
    distributor = make_distributor(db)
    product = make_product_model(db)
    add_pickup(
        db, distributor=distributor, product=product, picked_on=date(2026, 1, 5), net_value="100"
    )
    browser.log_in(make_user(db, org=distributor).email, PASSWORD)

    listing = browser.get("/portal/pickups", params={"date_from": "2026-01-01"})
    assert listing.status_code == 200
    _phone_ready(listing.text)
    assert "€100.00" in listing.text
    assert "No pickups match" in browser.get("/portal/pickups", params={"product": "nope"}).text
    template = browser.get("/portal/pickups/template.csv")
    assert template.text.startswith("picked_on,product_code,quantity,net_value,currency")

    headers = {"X-CSRF-Token": browser.csrf_token("/portal/pickups"), "HX-Request": "true"}
    bad = (
        "picked_on,product_code,quantity,net_value,currency,document_number,line_no\n"
        f"2026-02-01,{product.code},1,50.00,EUR,INV-9,1\n"
        "2026-02-30,UNKNOWN,1,50.00,EUR,INV-9,2\n"
    )
    refused = browser.post(
        "/portal/pickups/upload", files={"file": ("p.csv", bad, "text/csv")}, headers=headers
    )
    assert refused.status_code == 422
    words = re.sub(r"<[^>]+>", "", refused.text)
    assert "Row 3, column picked_on:" in words
    assert "Row 3, column product_code: there is no product UNKNOWN" in words
    assert "Nothing was imported" in refused.text
    count = select(func.count()).where(PickupLine.distributor_org_id == distributor.id)
    assert db.scalar(count) == 1

    good = bad.splitlines()[0] + "\n" + bad.splitlines()[1] + "\n"
    stored = browser.post(
        "/portal/pickups/upload", files={"file": ("p.csv", good, "text/csv")}, headers=headers
    )
    assert stored.status_code == 204
    assert "Imported 1 line." in browser.get(stored.headers["hx-redirect"]).text
    assert db.scalar(count) == 2


def test_statement_list_detail_and_pdf_for_the_owner(browser: Browser, db: Session) -> None:
    settled = settled_statement(db)
    browser.log_in(settled.partner.email, PASSWORD)

    listing = browser.get("/portal/statements")
    assert listing.status_code == 200
    _phone_ready(listing.text)
    assert f'href="/portal/statements/{settled.statement.id}"' in listing.text

    detail = browser.get(f"/portal/statements/{settled.statement.id}")
    assert detail.status_code == 200
    _phone_ready(detail.text)
    assert f"/verify/{settled.statement.anchor_request_id}" in detail.text
    assert "€240.00" in detail.text

    pdf = browser.get(f"/portal/statements/{settled.statement.id}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == settled.statement.pdf


def test_finance_creates_a_program_runs_a_settlement_and_approves(
    browser: Browser, db: Session
) -> None:

    distributor = make_distributor(db)
    add_pickup(
        db,
        distributor=distributor,
        product=make_product_model(db),
        picked_on=date(2026, 2, 1),
        net_value="5000",
    )
    _log_in_admin(browser, db)
    for page in ("/staff/partners", "/staff/partners/programs", "/staff/partners/tiers"):
        response = browser.get(page)
        assert response.status_code == 200, page
        _phone_ready(response.text)

    token = browser.csrf_token("/staff/partners/programs")
    created = browser.post(
        "/staff/partners/programs",
        data={
            "csrf_token": token,
            "name": "Growth 2026",
            "period_kind": "quarter",
            "measure": "net_value",
            "calculation": "retroactive",
            "growth": "none",
            "currency": "EUR",
            "lower": ["0", "10000", ""],
            "upper": ["10000", "", ""],
            "rate": ["1", "2", ""],
        },
    )
    assert created.status_code == 303
    program = db.scalars(select(RebateProgram).where(RebateProgram.name == "Growth 2026")).one()
    assert created.headers["location"] == f"/staff/partners/programs/{program.id}"

    ran = browser.post(
        f"/staff/partners/programs/{program.id}/settle",
        data={"period_start": "2026-01-01"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert ran.status_code == 200
    assert "1 draft statement created" in ran.text
    link = re.search(r"/staff/partners/statements/(\d+)", ran.text)
    assert link is not None
    statement_id = int(link.group(1))

    refused = browser.post(
        f"/staff/partners/statements/{statement_id}/approve",
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert refused.status_code == 403
    assert "someone other than who settled it" in refused.text

    browser.post("/logout", data={"csrf_token": token})
    _log_in_admin(browser, db)  # a second person approves
    token = browser.csrf_token("/staff/partners/programs")
    for action, status in (("approve", "approved"), ("issue", "issued"), ("paid", "paid")):
        response = browser.post(
            f"/staff/partners/statements/{statement_id}/{action}",
            data={"csrf_token": token, "confirmed": "yes"},
        )
        assert response.status_code == 303, action
        page = browser.get(f"/staff/partners/statements/{statement_id}")
        assert f"status-{status}" in page.text
    assert browser.get(f"/staff/partners/statements/{statement_id}/pdf").status_code == 200
    assert (
        StatementStatus.PAID.value
        in browser.get("/staff/partners/statements", params={"status": "paid"}).text
    )


def test_finance_sets_tier_rules_runs_a_review_and_changes_a_tier(
    browser: Browser, db: Session
) -> None:
    distributor = make_distributor(db)
    make_profile(db, distributor)
    add_pickup(
        db,
        distributor=distributor,
        product=make_product_model(db),
        picked_on=date(2026, 2, 1),
        net_value="25000",
    )
    _log_in_admin(browser, db)
    headers = {"X-CSRF-Token": browser.csrf_token("/staff/partners/tiers"), "HX-Request": "true"}

    saved = browser.post(
        "/staff/partners/tiers/rules",
        data={"silver": "0", "gold": "20000", "platinum": "50000", "currency": "EUR"},
        headers=headers,
    )
    assert saved.status_code == 200
    assert "Tier rules saved" in saved.text
    reviewed = browser.post(
        "/staff/partners/tiers/review", data={"period_end": "2026-03-31"}, headers=headers
    )
    assert "promoted" in reviewed.text
    assert db.get_one(DistributorProfile, distributor.id).tier == "gold"

    changed = browser.post(
        "/staff/partners/tiers/change",
        data={"org_id": str(distributor.id), "tier": "platinum", "reason": "strategic partner"},
        headers=headers,
    )
    assert changed.status_code == 200
    assert "strategic partner" in changed.text
    db.expire_all()
    assert db.get_one(DistributorProfile, distributor.id).tier == "platinum"
