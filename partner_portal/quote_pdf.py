"""The approved quote as a PDF (fpdf2): the lines, prices and totals the approvers accepted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from fpdf import FPDF

from core.formatting import date_text, datetime_text, money_text, number_text
from core.pdf import printable
from crm.company import Letterhead
from crm.letterhead import FONT, DocumentPDF, print_letterhead, print_terms

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
    pdf.set_author(printable(facts.issuer.legal_name))
    pdf.add_page()
    print_letterhead(pdf, facts.issuer, recipient=facts.recipient, recipient_label="Quote for")
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, printable(f"Quote {facts.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    reader = facts.recipient.reader  # the distributor's zone and locale, kept at issue
    for label, value in (
        ("Subject", facts.subject),
        ("Approved", datetime_text(facts.approved_at, reader)),
        ("Valid until", date_text(facts.valid_until, reader)),
        ("Approved by", ", ".join(facts.approved_by) or "-"),
        ("Currency", facts.currency),
    ):
        pdf.set_font(FONT, "B", 11)
        pdf.cell(35, 7, label)
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(0, 7, printable(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _row(pdf, ("Product", "Qty", "List price", "Disc. %", "Net value"), bold=True)
    for line in facts.lines:
        _row(
            pdf,
            (
                line.product,
                number_text(line.quantity, reader),
                number_text(line.list_price, reader, places=2),
                number_text(line.discount_pct, reader, places=2),
                number_text(line.net_value, reader, places=2),
            ),
        )
    pdf.ln(2)
    list_value = money_text(facts.list_value, facts.currency, reader)
    _row(pdf, ("List value", "", "", "", list_value))
    total = money_text(facts.total_value, facts.currency, reader)
    _row(pdf, (f"Total ({facts.currency})", "", "", "", total), bold=True)
    pdf.ln(6)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(
        0,
        5,
        printable(
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
            f"This quote is valid until {date_text(facts.valid_until, reader)}; an order placed "
            "after that date is priced again.",
            facts.issuer.terms,
        ],
    )
    return pdf.finished()


def _row(pdf: FPDF, cells: tuple[str, ...], *, bold: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", 10)
    for index, (width, text) in enumerate(zip(_WIDTHS, cells, strict=True)):
        align = "L" if index == 0 else "R"
        pdf.cell(width, 7, printable(text)[:40], border="B", align=align)
    pdf.ln(7)
