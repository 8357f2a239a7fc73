"""A completed work order gets a signed PDF report, queued for anchoring, verifiable by QR."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import IllegalTransition
from core.formatting import datetime_text, default_reader
from crm.company import manufacturer_org_id
from crm.models import Asset, Organization
from ledger.models import AnchorRequest
from service_orders.certificates import (
    CERTIFICATE_KIND,
    issue_certificate,
    render_issued_report,
)
from service_orders.models import ServiceCertificate, WorkOrder
from service_orders.photos import add_photo
from service_orders.report_issuing import issue_missing_certificates
from service_orders.schemas import ChecklistItem, PartUsed
from service_orders.workorders import complete_work_order, transition, update_visit
from tests.crm.company_factories import first_page_png, give_profile
from tests.crm.factories import make_asset, make_org
from tests.fieldcrm.conftest import Browser
from tests.service_orders.workorder_factories import make_engineer, open_order, png, staff

PUBLIC_URL = "https://service.example.test"


def _completed(
    db: Session,
    *,
    notes: str = "Replaced the hydraulic filter",
    on_site: Callable[[WorkOrder, Principal], object] | None = None,
) -> WorkOrder:
    """A visit completed and signed; `on_site` records what the engineer did there."""
    order = open_order(db, make_asset(db, owner=make_org(db)), actor=staff(db))
    engineer, as_engineer = make_engineer(db)
    order.engineer_id = engineer.id
    db.flush()
    for target in ("accepted", "en_route", "on_site"):
        transition(db, actor=as_engineer, work_order_id=order.id, target=target)
    if on_site is not None:
        on_site(order, as_engineer)
    complete_work_order(
        db,
        actor=as_engineer,
        work_order_id=order.id,
        outcome="fixed",
        signature_png=png(40, 20),
        signed_by="Anna Customer",
        notes=notes,
    )
    return order


def test_completed_order_gets_an_anchored_pdf_report(db: Session) -> None:
    order = _completed(db)
    certificate = issue_certificate(db, work_order_id=order.id, public_url=PUBLIC_URL)
    assert certificate.pdf.startswith(b"%PDF")
    assert certificate.sha256 == hashlib.sha256(certificate.pdf).hexdigest()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(certificate.pdf)).pages)
    assert order.number in text
    assert "Anna Customer" in text
    assert "Replaced the hydraulic filter" in text
    assert re.search(rf"{PUBLIC_URL}/certificates/{certificate.id}", re.sub(r"\s+", "", text))
    anchor = db.get(AnchorRequest, certificate.anchor_request_id)
    assert anchor is not None
    assert (anchor.sha256, anchor.kind) == (certificate.sha256, CERTIFICATE_KIND)
    assert anchor.reference == f"work_order:{order.number}"


def test_issuing_twice_gives_the_same_certificate(db: Session) -> None:
    order = _completed(db)
    first = issue_certificate(db, work_order_id=order.id, public_url=PUBLIC_URL)
    assert issue_certificate(db, work_order_id=order.id, public_url=PUBLIC_URL) is first
    assert issue_missing_certificates(db, public_url=PUBLIC_URL) == 0


def test_an_open_order_gets_no_certificate(db: Session) -> None:
    order = open_order(db, make_asset(db, owner=make_org(db)), actor=staff(db))
    with pytest.raises(IllegalTransition):
        issue_certificate(db, work_order_id=order.id, public_url=PUBLIC_URL)


def test_the_qr_page_is_public_and_says_pending_before_anchoring(
    browser: Browser, db: Session
) -> None:
    order = _completed(db)
    certificate = issue_certificate(db, work_order_id=order.id, public_url=PUBLIC_URL)
    page = browser.get(f"/certificates/{certificate.id}")
    assert page.status_code == 200
    assert order.number in page.text
    assert "waiting to be anchored" in page.text.lower()
    pdf = browser.get(f"/certificates/{certificate.id}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == certificate.sha256
    assert browser.get("/certificates/00000000-0000-4000-8000-000000000000").status_code == 404


def _photo(colour: tuple[int, int, int]) -> bytes:
    """A 1200 × 900 JPEG of one colour, as a phone camera would send (only larger)."""
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), colour).save(out, format="JPEG")
    return out.getvalue()


def _recorded_visit(db: Session, photo_dir: Path) -> WorkOrder:
    """A visit with everything an engineer records: checklist, parts, notes, a photo."""

    def record(order: WorkOrder, as_engineer: Principal) -> None:
        order.checklist = [
            {"label": "Clean the condenser coil", "done": False, "note": ""},
            {"label": "Check the door seal", "done": False, "note": ""},
        ]
        update_visit(
            db,
            actor=as_engineer,
            work_order_id=order.id,
            checklist=[
                ChecklistItem(label="Clean the condenser coil", done=True, note="heavy dust"),
                ChecklistItem(label="Check the door seal", done=False),
            ],
            parts=[
                PartUsed(
                    part_no="CND-GSK-400", description="Condenser gasket set", quantity=Decimal(2)
                ),
                PartUsed(part_no="FLT-10", quantity=Decimal("1.5")),
            ],
            notes="Gasket was torn at the hinge side",
        )
        add_photo(
            db,
            actor=as_engineer,
            work_order_id=order.id,
            data=_photo(PHOTO_RGB),
            directory=photo_dir,
        )

    return _completed(db, notes="Door closes tight again", on_site=record)


PHOTO_RGB = (20, 160, 40)


def _near(rgb: object, target: tuple[int, int, int]) -> bool:
    assert isinstance(rgb, tuple)
    return all(abs(int(a) - b) < 30 for a, b in zip(rgb, target, strict=True))


def test_the_report_holds_everything_the_engineer_recorded(db: Session, tmp_path: Path) -> None:
    order = _recorded_visit(db, tmp_path)
    certificate = issue_certificate(
        db, work_order_id=order.id, public_url=PUBLIC_URL, photo_dir=tmp_path
    )

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(certificate.pdf)).pages)
    assert "2 x CND-GSK-400 Condenser gasket set" in text
    assert "1.5 x FLT-10" in text
    assert "Done: Clean the condenser coil (heavy dust)" in text
    assert "Not done: Check the door seal" in text
    assert "Gasket was torn at the hinge side" in text
    assert "Door closes tight again" in text
    assert "Photos (1)" in text
    for step in ("Accepted", "On the way", "Arrived on site", "Completed: fixed"):
        assert step in text, step
    assert order.on_site_at is not None
    # the customer's zone and locale (the installation's here): "4 Dec 2026, 19:52 CET"
    assert f"{datetime_text(order.on_site_at, default_reader())} Arrived on site" in text


def test_the_report_shows_the_photos_as_thumbnails(db: Session, tmp_path: Path) -> None:
    order = _recorded_visit(db, tmp_path)
    certificate = issue_certificate(
        db, work_order_id=order.id, public_url=PUBLIC_URL, photo_dir=tmp_path
    )
    assert len(certificate.pdf) < 200_000  # a thumbnail, not the camera's full picture

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(certificate.pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    green = 0
    for page in pages:
        with Image.open(page) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
        green += sum(n for n, rgb in colours if _near(rgb, PHOTO_RGB))
    # a 45 mm wide thumbnail at 40 dpi is about 70 × 50 pixels
    assert green > 2000, f"no photo drawn on {[p.name for p in pages]}"


def _letterheaded_certificate(db: Session) -> tuple[ServiceCertificate, Organization]:
    order = _completed(db)
    maker = db.get_one(Organization, manufacturer_org_id(db))
    give_profile(db, maker)
    owner = db.get_one(Organization, db.get_one(Asset, order.asset_id).owner_org_id)
    give_profile(
        db,
        owner,
        legal_name="Klinikum Schwabing gGmbH",
        address="Kölner Platz 1\n80804 München",
        vat_id="",
        logo_png=None,
    )
    return issue_certificate(db, work_order_id=order.id, public_url=PUBLIC_URL), maker


def test_the_report_is_on_the_manufacturers_letterhead_for_the_customer(db: Session) -> None:
    certificate, _ = _letterheaded_certificate(db)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(certificate.pdf)).pages)
    for expected in (
        "Kältetechnik Nord GmbH",
        "Leopoldstraße 12",
        "VAT ID DE811234567",
        "+49 89 1234 5600",
        "Klinikum Schwabing gGmbH",
        "80804 München",
        "page 1 of ",
    ):
        assert expected in text, expected
    first_page_png(certificate.pdf, "service-report")


def test_a_report_rendered_again_is_byte_identical_after_the_profile_changed(
    db: Session,
) -> None:
    certificate, maker = _letterheaded_certificate(db)
    give_profile(db, maker, legal_name="Renamed AG", logo_png=None)
    db.expire_all()
    certificate = db.get_one(ServiceCertificate, certificate.id)
    again = render_issued_report(db, certificate, public_url=PUBLIC_URL)
    assert again == certificate.pdf
    assert hashlib.sha256(again).hexdigest() == certificate.sha256
