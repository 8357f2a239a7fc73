"""The PDFs' Unicode font and the text they print."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import pdf
from core.config import ConfigError
from core.pdf import printable, unicode_font_files


def test_formatted_amounts_keep_their_spaces_and_control_characters_go() -> None:
    # fr_FR and en_US put narrow no-break spaces in amounts and times; the font has U+00A0
    assert printable("12\u202f000,00\u00a0€") == "12\u00a0000,00\u00a0€"
    assert printable("1:52\u202fPM") == "1:52\u00a0PM"
    assert printable("line one\nline two\x07\x00") == "line one\nline two"


def test_missing_fonts_say_how_to_install_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert all(path.is_file() for path in unicode_font_files().values())
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    with pytest.raises(ConfigError, match="run `make setup`"):
        unicode_font_files()
