"""The approved quote's PDF: on the manufacturer's letterhead, for its distributor, valid for
the profile's days, with the terms; the same bytes when rendered again."""

from __future__ import annotations

import io
from datetime import UTC, timedelta

from pypdf import PdfReader
from sqlalchemy.orm import Session

from core.formatting import date_text, default_reader
from crm.company import manufacturer_org_id
from crm.models import Capability, Organization, OrgKind, User
from partner_portal.approvals import Decision
from partner_portal.inquiries import decide_inquiry, quote_facts
from partner_portal.models import Inquiry
from partner_portal.quote_pdf import render_quote
from tests.crm.company_factories import first_page_png, give_profile
from tests.crm.factories import make_org, principal_of
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.inquiry_factories import (
    line,
    log_in,
    make_partner,
    make_priced_product,
    make_staff,
    pending_approval,
    submit_inquiry,
)


def _approved_quote(db: Session) -> tuple[Inquiry, Organization, User]:
    make_org(db, kind=OrgKind.MANUFACTURER)
    maker = db.get_one(Organization, manufacturer_org_id(db))
    profile = give_profile(db, maker)
    profile.quote_valid_days = 45
    partner = make_partner(db)
    give_profile(
        db,
        db.get_one(Organization, partner.org_id),
        legal_name="Kühlhaus Service Rhein GmbH",
        address="Rheinallee 3\n50668 Köln",
        vat_id="DE298765432",
        logo_png=None,
    )
    inquiry = submit_inquiry(db, partner, [line(make_priced_product(db), "3", discount="5")])
    decide_inquiry(
        db,
        actor=principal_of(make_staff(db, Capability.SALES_MANAGER)),
        inquiry_id=inquiry.id,
        approval_id=pending_approval(db, inquiry).id,
        decision=Decision.APPROVE,
        comment="",
    )
    return inquiry, maker, partner


def test_the_quote_is_on_the_letterhead_for_the_distributor_with_its_validity(
    db: Session,
) -> None:
    inquiry, _, _ = _approved_quote(db)
    assert inquiry.quote_pdf is not None
    assert inquiry.decided_at is not None
    valid_until = inquiry.decided_at.astimezone(UTC).date() + timedelta(days=45)
    assert inquiry.quote_valid_until == valid_until
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(inquiry.quote_pdf)).pages)
    for expected in (
        "Kältetechnik Nord GmbH",
        "Leopoldstraße 12",
        "VAT ID DE811234567",
        "Quote for",
        "Kühlhaus Service Rhein GmbH",
        "50668 Köln",
        "VAT ID DE298765432",
        f"Valid until {date_text(valid_until, default_reader())}",  # as the distributor reads
        "Terms",
        "Payment within 30 days of the invoice date",
    ):
        assert expected in text, expected
    first_page_png(inquiry.quote_pdf, "quote")


def test_a_quote_rendered_again_is_byte_identical_after_the_profile_changed(
    db: Session,
) -> None:
    inquiry, maker, _ = _approved_quote(db)
    give_profile(db, maker, legal_name="Renamed AG", terms="New terms", logo_png=None)
    db.expire_all()
    inquiry = db.get_one(Inquiry, inquiry.id)
    assert render_quote(quote_facts(db, inquiry)) == inquiry.quote_pdf


def test_the_distributor_reads_until_when_the_quote_holds(browser: Browser, db: Session) -> None:
    inquiry, _, partner = _approved_quote(db)
    assert inquiry.quote_valid_until is not None
    log_in(browser, partner)
    page = browser.get(f"/portal/inquiries/{inquiry.id}").text
    assert f'it is valid until <time datetime="{inquiry.quote_valid_until.isoformat()}">' in page
