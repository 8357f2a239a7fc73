"""The approved quote as a PDF (fpdf2): the lines, prices and totals the approvers accepted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from fpdf import FPDF

from core.pdf import latin1
from crm.company import Letterhead
from crm.letterhead import DocumentPDF, print_letterhead, print_terms

_WIDTHS = (70, 20, 32, 22, 36)


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One priced line of a quote."""

    product: str
    quantity: Decimal
    list_price: Decimal
    discount_pct: Decimal
    net_value: Decimal


@dataclass(frozen=True, slots=True)
class QuoteFacts:
    """What a quote states."""

    number: str
    subject: str
    issuer: Letterhead
    recipient: Letterhead
    currency: str
    approved_at: datetime
    valid_until: date
    approved_by: Sequence[str]
    lines: Sequence[QuoteLine]
    list_value: Decimal
    total_value: Decimal


def render_quote(facts: QuoteFacts) -> bytes:
    """The quote as PDF bytes; the same facts always give the same bytes (the creation date
    is the approval time)."""
    pdf = DocumentPDF(facts.issuer, name=f"Quote {facts.number}")
    pdf.set_creation_date(facts.approved_at)
    pdf.set_title(f"Quote {facts.number}")
    pdf.set_author(latin1(facts.issuer.legal_name))
    pdf.add_page()
    print_letterhead(pdf, facts.issuer, recipient=facts.recipient, recipient_label="Quote for")
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, latin1(f"Quote {facts.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for label, value in (
        ("Subject", facts.subject),
        ("Approved", facts.approved_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("Valid until", facts.valid_until.isoformat()),
        ("Approved by", ", ".join(facts.approved_by) or "-"),
        ("Currency", facts.currency),
    ):
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(35, 7, label)
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 7, latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _row(pdf, ("Product", "Qty", "List price", "Disc. %", "Net value"), bold=True)
    for line in facts.lines:
        _row(
            pdf,
            (
                line.product,
                _number(line.quantity),
                _money(line.list_price),
                f"{line.discount_pct:.2f}",
                _money(line.net_value),
            ),
        )
    pdf.ln(2)
    _row(pdf, ("List value", "", "", "", _money(facts.list_value)))
    _row(pdf, (f"Total ({facts.currency})", "", "", "", _money(facts.total_value)), bold=True)
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        latin1(
            f"Prices per unit in {facts.currency}, excluding taxes. Net value = quantity x "
            "list price less the discount. Quote approved through the partner portal."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    print_terms(
        pdf,
        "Terms",
        [
            f"This quote is valid until {facts.valid_until.isoformat()}; an order placed after "
            "that date is priced again.",
            facts.issuer.terms,
        ],
    )
    return bytes(pdf.output())


def _row(pdf: FPDF, cells: tuple[str, ...], *, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 10)
    for index, (width, text) in enumerate(zip(_WIDTHS, cells, strict=True)):
        align = "L" if index == 0 else "R"
        pdf.cell(width, 7, latin1(text)[:40], border="B", align=align)
    pdf.ln(7)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"
