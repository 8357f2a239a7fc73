"""A company profile with a logo, and what its PDFs look like, for the document tests."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from core.config import PROJECT_ROOT
from crm.models import CompanyProfile, Organization

DOCUMENTS = PROJECT_ROOT / "tests" / "e2e" / "results" / "documents"


def logo_png(width: int = 300, height: int = 100, *, fmt: str = "PNG") -> bytes:
    """A two-colour logo: a blue square and a bar, on white."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, height - 1, height - 1), fill=(20, 80, 160))
    draw.rectangle((height + 10, height // 3, width - 1, 2 * height // 3), fill=(20, 80, 160))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def give_profile(db: Session, org: Organization, **changes: object) -> CompanyProfile:
    """A full profile for `org` (a Munich manufacturer unless told otherwise)."""
    fields: dict[str, object] = {
        "legal_name": "Kältetechnik Nord GmbH",
        "address": "Leopoldstraße 12\n80802 München\nGermany",
        "vat_id": "DE811234567",
        "registration_id": "HRB 234567, Amtsgericht München",
        "email": "billing@kaeltetechnik.example",
        "phone": "+49 89 1234 5600",
        "website": "www.kaeltetechnik.example",
        "terms": "Payment within 30 days of the invoice date, without deduction.",
        "logo_png": logo_png(),
        **changes,
    }
    profile = db.get(CompanyProfile, org.id) or CompanyProfile(org_id=org.id)
    for name, value in fields.items():
        setattr(profile, name, value)
    db.add(profile)
    db.flush()
    return profile


def first_page_png(pdf: bytes, name: str, *, dpi: int = 70) -> Path:
    """Page 1 of the PDF as a PNG under tests/e2e/results/documents/, to look at."""
    DOCUMENTS.mkdir(parents=True, exist_ok=True)
    source = DOCUMENTS / f"{name}.pdf"
    source.write_bytes(pdf)
    stem = DOCUMENTS / name
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", source, stem],
        check=True,
    )
    return stem.with_suffix(".png")
