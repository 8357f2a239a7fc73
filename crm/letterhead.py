"""The letterhead, address block and terms of the PDFs the product issues (fpdf2), drawn the
same way on quotes, rebate statements and service reports."""

from __future__ import annotations

import io
import weakref
from collections.abc import Mapping, Sequence

from fpdf import FPDF
from PIL import Image

from core.pdf import printable, unicode_font_files
from crm.company import Letterhead

LOGO_HEIGHT_MM = 18.0
LOGO_MAX_WIDTH_MM = 60.0
_RIGHT_BLOCK_X = 105.0
_INK = (40, 40, 40)
_MUTED = (95, 95, 95)
FONT = "DocumentSans"  # registered on every DocumentPDF (core/pdf.py)


class DocumentPDF(FPDF):
    """An A4 document whose every page ends with the issuer's legal line and "page n of m"."""

    def __init__(self, issuer: Letterhead, *, name: str) -> None:
        super().__init__(format="A4")
        for style, path in unicode_font_files().items():
            self.add_font(FONT, style, str(path))
        # fontTools reads the files lazily and keeps them open: closed when the document is
        # finished, or when it is dropped half-made (a report that failed to render)
        weakref.finalize(self, _close_font_files, self.fonts)
        ids = [issuer.legal_name, f"VAT ID {issuer.vat_id}" if issuer.vat_id else ""]
        self._legal_line = printable(
            " \u00b7 ".join(part for part in [*ids, issuer.registration_id] if part)
        )
        self._name = printable(name)
        self.alias_nb_pages()

    def finished(self) -> bytes:
        """The document's bytes; the font files it read are closed."""
        try:
            return bytes(self.output())
        finally:
            _close_font_files(self.fonts)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*_MUTED)
        half = (self.w - self.l_margin - self.r_margin) / 2
        self.cell(half + 30, 5, self._legal_line)
        self.cell(half - 30, 5, f"{self._name} \u00b7 page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def _close_font_files(fonts: Mapping[str, object]) -> None:
    for font in fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()


def print_letterhead(
    pdf: FPDF,
    issuer: Letterhead,
    *,
    recipient: Letterhead | None = None,
    recipient_label: str = "To",
) -> None:
    """The issuer's logo and details across the top of the page, then the recipient's
    address block; the cursor ends below both, at the left margin."""
    top = pdf.t_margin
    logo_bottom = top
    if issuer.logo_png:
        width, height = _logo_size(issuer.logo_png)
        pdf.image(io.BytesIO(issuer.logo_png), x=pdf.l_margin, y=top, w=width, h=height)
        logo_bottom = top + height
    else:  # no logo: the name is the mark
        pdf.set_xy(pdf.l_margin, top)
        pdf.set_font(FONT, "B", 16)
        pdf.set_text_color(*_INK)
        pdf.multi_cell(_RIGHT_BLOCK_X - pdf.l_margin - 5, 8, printable(issuer.legal_name))
        logo_bottom = pdf.get_y()
    pdf.set_xy(_RIGHT_BLOCK_X, top)
    block_width = pdf.w - pdf.r_margin - _RIGHT_BLOCK_X
    pdf.set_font(FONT, "B", 10)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(block_width, 5, printable(issuer.legal_name), align="R", new_x="LEFT")
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*_MUTED)
    for line in _issuer_lines(issuer):
        pdf.multi_cell(block_width, 4.2, printable(line), align="R", new_x="LEFT")
    bottom = max(pdf.get_y(), logo_bottom) + 3
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, bottom, pdf.w - pdf.r_margin, bottom)
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(pdf.l_margin, bottom + 4)
    if recipient is not None:
        _address_block(pdf, recipient, recipient_label)


def print_terms(pdf: FPDF, title: str, paragraphs: Sequence[str]) -> None:
    """A small-print section (terms, payment note) after the document's figures."""
    texts = [text.strip() for text in paragraphs if text.strip()]
    if not texts:
        return
    pdf.ln(3)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, printable(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*_MUTED)
    for text in texts:
        pdf.multi_cell(0, 4.2, printable(text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.set_text_color(0, 0, 0)


def _issuer_lines(issuer: Letterhead) -> list[str]:
    lines = list(issuer.address_lines)
    ids = [f"VAT ID {issuer.vat_id}" if issuer.vat_id else "", issuer.registration_id]
    lines += [" | ".join(part for part in ids if part)] if any(ids) else []
    lines += [part for part in (issuer.phone, issuer.email, issuer.website) if part]
    return lines


def _address_block(pdf: FPDF, recipient: Letterhead, label: str) -> None:
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*_MUTED)
    pdf.cell(0, 4, printable(label), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(100, 5.5, printable(recipient.legal_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for line in recipient.address_lines:
        pdf.multi_cell(100, 5, printable(line), new_x="LMARGIN", new_y="NEXT")
    if recipient.vat_id:
        pdf.cell(100, 5, printable(f"VAT ID {recipient.vat_id}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _logo_size(png: bytes) -> tuple[float, float]:
    with Image.open(io.BytesIO(png)) as image:
        width_px, height_px = image.size
    height = LOGO_HEIGHT_MM
    width = height * width_px / height_px
    if width > LOGO_MAX_WIDTH_MM:
        width = LOGO_MAX_WIDTH_MM
        height = width * height_px / width_px
    return width, height
