"""Helpers for the PDFs the product renders with fpdf2 (reports, statements, quotes, contracts)."""

from __future__ import annotations

from pathlib import Path

from core.config import ConfigError

# DejaVu Sans Condensed (Debian's fonts-dejavu-extra, installed by scripts/setup): close to
# Helvetica's width, with every character a formatted date or amount needs (€, narrow spaces)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
UNICODE_FONT_FILES = {
    "": "DejaVuSansCondensed.ttf",
    "B": "DejaVuSansCondensed-Bold.ttf",
    "I": "DejaVuSansCondensed-Oblique.ttf",
    "BI": "DejaVuSansCondensed-BoldOblique.ttf",
}


def unicode_font_files() -> dict[str, Path]:
    """The font file of each style; a clear error when the fonts are not installed."""
    files = {style: FONT_DIR / name for style, name in UNICODE_FONT_FILES.items()}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise ConfigError(
            f"the PDF fonts are missing ({', '.join(missing)}): run `make setup`, which "
            "installs Debian's fonts-dejavu-extra"
        )
    return files


# spaces CLDR puts in numbers and times that the font lacks, as the no-break space it has
_SPACES = str.maketrans({"\u202f": "\u00a0", "\u2009": "\u00a0", "\u2007": "\u00a0"})


def printable(text: str) -> str:
    """Text for a PDF in the Unicode font: control characters (but line breaks) dropped,
    narrow and thin spaces ("12 000,00 €", "1:52 PM") as no-break spaces."""
    return "".join(c for c in text.translate(_SPACES) if c in "\n\t\u00a0" or c.isprintable())


def latin1(text: str) -> str:
    """Text for the PDF core fonts, which are Latin-1: anything else shows as "?" rather than
    failing the whole document."""
    return text.encode("latin-1", "replace").decode("latin-1")
