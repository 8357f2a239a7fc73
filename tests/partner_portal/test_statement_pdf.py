"""An issued statement's PDF: what it says, its QR link, and the hash the ledger anchors."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from PIL import Image
from pypdf import PdfReader
from sqlalchemy.orm import Session

from crm.models import Organization, OrgKind
from ledger.models import AnchorRequest
from partner_portal.models import RebateStatement
from partner_portal.settlement import issue_statement
from partner_portal.statement_pdf import render_statement, statement_facts, statement_qr_url
from tests.crm.company_factories import first_page_png, give_profile
from tests.crm.factories import make_org
from tests.partner_portal.statement_factories import PUBLIC_URL, settled_statement


def _text(pdf: bytes) -> str:
    """What a reader of the PDF reads, page after page, in one line."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pages)


def test_the_issued_pdf_is_what_the_ledger_anchors(db: Session) -> None:
    statement = settled_statement(db).statement
    assert statement.pdf is not None
    assert statement.pdf.startswith(b"%PDF")
    anchor = db.get_one(AnchorRequest, statement.anchor_request_id)
    assert statement.sha256 == hashlib.sha256(statement.pdf).hexdigest() == anchor.sha256
    assert anchor.kind == "rebate_statement"


def test_the_qr_code_opens_the_verify_page_of_its_own_anchor(db: Session) -> None:
    statement = settled_statement(db).statement
    assert statement.anchor_request_id is not None
    assert statement.pdf is not None
    url = statement_qr_url(PUBLIC_URL, statement.anchor_request_id)
    assert url == f"{PUBLIC_URL}/verify/{statement.anchor_request_id}"
    assert url in _text(statement.pdf).replace(" ", "")  # a long link may wrap
    assert b"/Subtype /Image" in statement.pdf


def test_the_pdf_states_names_lines_and_amounts(db: Session) -> None:
    settled = settled_statement(db)
    text = _text(settled.statement.pdf or b"")
    for expected in (
        settled.distributor.name,
        "Volume rebate",
        "1 Jan 2026 to 31 Mar 2026",  # as the distributor reads (en_GB, the default)
        settled.product.code,
        "12,000.00",
        "€240.00",
        "Payout",
    ):
        assert expected in text, expected


def test_the_same_statement_and_issue_time_give_the_same_bytes(db: Session) -> None:
    statement = settled_statement(db, issue=False).statement
    facts = statement_facts(db, statement)
    issued = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)
    first = render_statement(facts, qr_url="https://x/verify/1", issued_at=issued)
    second = render_statement(facts, qr_url="https://x/verify/1", issued_at=issued)
    assert first == second


def test_a_negative_payout_is_called_a_clawback(db: Session) -> None:
    statement = settled_statement(db, issue=False).statement
    facts = statement_facts(db, statement)
    clawback = replace(facts, payout=Decimal("-750.00"))
    text = _text(
        render_statement(clawback, qr_url="https://x", issued_at=datetime(2026, 7, 1, tzinfo=UTC))
    )
    assert "Clawback (owed by the distributor)" in text
    assert "€750.00" in text


def _letterheaded(db: Session) -> tuple[RebateStatement, Organization]:
    """A statement issued by a Munich manufacturer to a distributor with a VAT id."""
    maker = make_org(db, kind=OrgKind.MANUFACTURER)
    give_profile(db, maker)
    settled = settled_statement(db, issue=False, maker=maker)
    give_profile(
        db,
        settled.distributor,
        legal_name="Froid Distribution SARL",
        address="12 rue de la Paix\n75002 Paris\nFrance",
        vat_id="FR40123456824",
        logo_png=None,
    )
    statement = issue_statement(
        db, actor=settled.finance, statement_id=settled.statement.id, public_url=PUBLIC_URL
    )
    return statement, maker


def test_the_pdf_is_on_the_manufacturers_letterhead_with_both_vat_ids(db: Session) -> None:
    statement, _ = _letterheaded(db)
    pdf = statement.pdf or b""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (
        "Kältetechnik Nord GmbH",
        "Leopoldstraße 12",
        "80802 München",
        "VAT ID DE811234567",
        "HRB 234567",
        "billing@kaeltetechnik.example",
        "Statement for",
        "Froid Distribution SARL",
        "75002 Paris",
        "VAT ID FR40123456824",
        "Payment and terms",
        "Kältetechnik Nord GmbH pays €240.00 to Froid Distribution SARL",
        "Payment within 30 days of the invoice date",
        # every page's foot: the legal line and the page number
        "Kältetechnik Nord GmbH · VAT ID DE811234567 · HRB 234567, Amtsgericht München",
        "page 1 of 1",
    ):
        assert expected in text, expected
    assert PdfReader(io.BytesIO(pdf)).metadata.author == "Kältetechnik Nord GmbH"
    page = first_page_png(pdf, "rebate-statement")
    with Image.open(page) as image:  # the logo's blue is drawn at the top left
        top_left = image.convert("RGB").crop((0, 0, image.width // 3, image.height // 8))
        blue = sum(n for n, rgb in top_left.getcolors(1 << 24) or [] if rgb[2] > rgb[0] + 60)
    assert blue > 200, page


def test_a_statement_rendered_again_is_byte_identical_after_the_profile_changed(
    db: Session,
) -> None:
    statement, maker = _letterheaded(db)
    give_profile(db, maker, legal_name="Renamed AG", logo_png=None)
    db.expire_all()
    statement = db.get_one(RebateStatement, statement.id)
    assert statement.anchor_request_id is not None
    assert statement.issued_at is not None
    again = render_statement(
        statement_facts(db, statement),
        qr_url=statement_qr_url(PUBLIC_URL, statement.anchor_request_id),
        issued_at=statement.issued_at,
    )
    assert again == statement.pdf
    assert hashlib.sha256(again).hexdigest() == statement.sha256


def test_the_pdf_reads_as_its_distributor_reads_in_their_time_zone_and_locale(
    db: Session,
) -> None:
    settled = settled_statement(db, issue=False)
    settled.distributor.time_zone, settled.distributor.locale = "Europe/Paris", "fr_FR"
    statement = issue_statement(
        db, actor=settled.finance, statement_id=settled.statement.id, public_url=PUBLIC_URL
    )
    text = _text(statement.pdf or b"")
    assert "1 janv. 2026 to 31 mars 2026" in text  # the words around stay English
    assert "240,00\u00a0€" in text or "240,00 €" in text
    assert "12\u202f000,00" in text or "12 000,00" in text
    # kept with the document: a later change of the organization's locale changes nothing
    settled.distributor.locale = "en_US"
    db.flush()
    assert statement.anchor_request_id is not None
    assert statement.issued_at is not None
    again = render_statement(
        statement_facts(db, statement),
        qr_url=statement_qr_url(PUBLIC_URL, statement.anchor_request_id),
        issued_at=statement.issued_at,
    )
    assert again == statement.pdf
