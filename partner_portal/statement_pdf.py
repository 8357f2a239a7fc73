"""Rebate statements as PDFs (fpdf2) with a QR code (segno) of the public verify page.

The QR code is printed inside the PDF whose SHA-256 is anchored, so the verify id is chosen
before the hash is known (see `settlement.issue_statement`). The same statement and issue
time always give the same bytes: the creation date is the issue time.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import segno
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.formatting import date_text, datetime_text, money_text, number_text
from core.pdf import printable
from crm.company import Letterhead, letterhead_for, manufacturer_org_id
from crm.letterhead import FONT, DocumentPDF, print_letterhead, print_terms
from crm.models import ProductModel
from ledger.qr import verify_path
from partner_portal.models import (
    Growth,
    Measure,
    RebateProgram,
    RebateStatement,
    RebateStatementLine,
)


@dataclass(frozen=True, slots=True)
class StatementLineFacts:
    """One product's period totals on the statement."""

    product_code: str
    product_name: str
    quantity: Decimal
    net_value: Decimal
    line_count: int


@dataclass(frozen=True, slots=True)
class StatementFacts:
    """What an issued statement states, gathered once."""

    number: str
    issuer: Letterhead
    recipient: Letterhead
    program: str
    measure: str
    growth: bool
    period_start: date
    period_end: date
    currency: str
    period_measure: Decimal
    ytd_measure: Decimal
    prior_ytd_measure: Decimal
    ytd_rebate: Decimal
    previously_settled: Decimal
    payout: Decimal
    lines: Sequence[StatementLineFacts]


def statement_number(statement: RebateStatement) -> str:
    """The statement's printed number: RS-<year>-<id>."""
    return f"RS-{statement.period_start.year}-{statement.id:06d}"


def statement_qr_url(public_url: str, verify_id: uuid.UUID) -> str:
    """What the QR code on the statement opens: the public verify page of its anchor."""
    return public_url.rstrip("/") + verify_path(verify_id)


def statement_facts(session: Session, statement: RebateStatement) -> StatementFacts:
    """Names, program and lines of a statement, for its PDF."""
    program = session.get_one(RebateProgram, statement.program_id)
    rows = session.execute(
        select(RebateStatementLine, ProductModel)
        .join(ProductModel, ProductModel.id == RebateStatementLine.product_model_id)
        .where(RebateStatementLine.statement_id == statement.id)
        .order_by(ProductModel.code)
    ).all()
    lines = [
        StatementLineFacts(model.code, model.name, line.quantity, line.net_value, line.line_count)
        for line, model in rows
    ]
    return StatementFacts(
        number=statement_number(statement),
        issuer=letterhead_for(
            session,
            snapshot_id=statement.issuer_profile_id,
            org_id=issuer_org_id(session, [model for _, model in rows]),
        ),
        recipient=letterhead_for(
            session,
            snapshot_id=statement.recipient_profile_id,
            org_id=statement.distributor_org_id,
        ),
        program=program.name,
        measure="net value" if program.measure == Measure.NET_VALUE else "quantity",
        growth=program.growth != Growth.NONE,
        period_start=statement.period_start,
        period_end=statement.period_end,
        currency=statement.currency,
        period_measure=statement.measure,
        ytd_measure=statement.ytd_measure,
        prior_ytd_measure=statement.prior_ytd_measure,
        ytd_rebate=statement.ytd_rebate,
        previously_settled=statement.previously_settled,
        payout=statement.payout,
        lines=lines,
    )


def statement_products(session: Session, statement: RebateStatement) -> list[ProductModel]:
    """The product models on the statement's lines, by code."""
    return list(
        session.scalars(
            select(ProductModel)
            .join(RebateStatementLine, RebateStatementLine.product_model_id == ProductModel.id)
            .where(RebateStatementLine.statement_id == statement.id)
            .order_by(ProductModel.code)
        )
    )


def issuer_org_id(session: Session, models: Sequence[ProductModel]) -> int:
    """Who issues the statement: the maker of its goods; without lines, the manufacturer."""
    if models and models[0].manufacturer_org_id is not None:
        return models[0].manufacturer_org_id
    return manufacturer_org_id(session)


def render_statement(facts: StatementFacts, *, qr_url: str, issued_at: datetime) -> bytes:
    """The statement as PDF bytes; deterministic for the same facts, URL and issue time."""
    pdf = DocumentPDF(facts.issuer, name=f"Rebate statement {facts.number}")
    pdf.set_creation_date(issued_at)
    pdf.set_title(f"Rebate statement {facts.number}")
    pdf.set_author(printable(facts.issuer.legal_name))
    pdf.add_page()
    print_letterhead(pdf, facts.issuer, recipient=facts.recipient, recipient_label="Statement for")
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, printable(f"Rebate statement {facts.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    reader = facts.recipient.reader  # the distributor's zone and locale, kept at issue
    rows = [
        ("Program", facts.program),
        (
            "Period",
            f"{date_text(facts.period_start, reader)} to {date_text(facts.period_end, reader)}",
        ),
        ("Currency", facts.currency),
        ("Issued", datetime_text(issued_at, reader)),
    ]
    _facts_table(pdf, rows)
    _lines_table(pdf, facts)
    amounts = [
        (f"Period {facts.measure}", _measured(facts, facts.period_measure)),
        (f"Year-to-date {facts.measure}", _measured(facts, facts.ytd_measure)),
    ]
    if facts.growth:
        amounts.append(("Prior year to date", _measured(facts, facts.prior_ytd_measure)))
    amounts += [
        (
            "Year-to-date rebate",
            money_text(facts.ytd_rebate, facts.currency, facts.recipient.reader),
        ),
        (
            "Previously settled",
            money_text(facts.previously_settled, facts.currency, facts.recipient.reader),
        ),
        (
            payout_label(facts.payout),
            money_text(abs(facts.payout), facts.currency, facts.recipient.reader),
        ),
    ]
    pdf.ln(3)
    _facts_table(pdf, amounts, label_width=70)
    if facts.payout < 0:
        pdf.set_font(FONT, "I", 10)
        pdf.multi_cell(
            0,
            6,
            "Returns lowered the year-to-date rebate below what was already paid: "
            "this amount is owed to the manufacturer (clawback).",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    print_terms(pdf, "Payment and terms", [payment_note(facts), facts.issuer.terms])
    if pdf.get_y() > pdf.h - 60:  # the QR code is never split from its words
        pdf.add_page()
    y = pdf.get_y() + 4
    qr = io.BytesIO()
    segno.make(qr_url, error="m").save(qr, kind="png", scale=4, border=2)
    pdf.image(io.BytesIO(qr.getvalue()), x=150, y=y, w=40)
    pdf.set_xy(10, y + 4)
    pdf.set_font(FONT, "", 8)
    pdf.multi_cell(130, 4, printable(f"Scan to verify this statement: {qr_url}"))
    return pdf.finished()


def payment_note(facts: StatementFacts) -> str:
    """What happens to the amount: paid to the distributor, or owed back, or nothing."""
    amount = money_text(abs(facts.payout), facts.currency, facts.recipient.reader)
    if facts.payout > 0:
        return (
            f"{facts.issuer.legal_name} pays {amount} to {facts.recipient.legal_name} "
            f"for {facts.number}; please keep this statement with your records."
        )
    if facts.payout < 0:
        return (
            f"{facts.recipient.legal_name} owes {amount} to {facts.issuer.legal_name}; "
            f"please pay it quoting {facts.number}."
        )
    return "Nothing is paid or owed for this period."


def payout_label(payout: Decimal) -> str:
    """A positive payout is paid out; a negative one is a clawback owed back."""
    return "Clawback (owed by the distributor)" if payout < 0 else "Payout"


def _facts_table(pdf: FPDF, rows: list[tuple[str, str]], *, label_width: float = 40) -> None:
    for label, value in rows:
        pdf.set_font(FONT, "B", 11)
        pdf.cell(label_width, 7, printable(label))
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(0, 7, printable(value), new_x="LMARGIN", new_y="NEXT")


def _lines_table(pdf: FPDF, facts: StatementFacts) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, "Pickups in the period", new_x="LMARGIN", new_y="NEXT")
    widths = (30, 75, 25, 40, 20)
    pdf.set_font(FONT, "B", 9)
    for width, title in zip(
        widths, ("Code", "Product", "Quantity", f"Net value {facts.currency}", "Lines"), strict=True
    ):
        pdf.cell(width, 6, title, border="B")
    pdf.ln()
    pdf.set_font(FONT, "", 9)
    for line in facts.lines:
        cells = (
            line.product_code,
            line.product_name[:45],
            _amount(line.quantity, facts),
            number_text(line.net_value, facts.recipient.reader, places=2),
            number_text(line.line_count, facts.recipient.reader),
        )
        for width, text in zip(widths, cells, strict=True):
            pdf.cell(width, 6, printable(text))
        pdf.ln()
    if not facts.lines:
        pdf.cell(0, 6, "(no pickups in the period)", new_x="LMARGIN", new_y="NEXT")


def _measured(facts: StatementFacts, value: Decimal) -> str:
    if facts.measure == "net value":
        return money_text(value, facts.currency, facts.recipient.reader)
    return f"{_amount(value, facts)} units"


def _amount(value: Decimal, facts: StatementFacts) -> str:
    places = 0 if value == value.to_integral() else 2
    return number_text(value, facts.recipient.reader, places=places)
