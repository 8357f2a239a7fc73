"""Helpers for the PDFs the product renders with fpdf2 (reports, statements, quotes, contracts)."""

from __future__ import annotations


def latin1(text: str) -> str:
    """Text for the PDF core fonts, which are Latin-1: anything else shows as "?" rather than
    failing the whole document."""
    return text.encode("latin-1", "replace").decode("latin-1")
