"""A completed work order gets a signed PDF report, queued for anchoring, verifiable by QR."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from core.errors import IllegalTransition
from ledger.models import AnchorRequest
from service_orders.certificates import (
    CERTIFICATE_KIND,
    issue_certificate,
    issue_missing_certificates,
)
from service_orders.models import WorkOrder
from service_orders.workorders import complete_work_order, transition
from tests.crm.factories import make_asset, make_org
from tests.fieldcrm.conftest import Browser
from tests.service_orders.workorder_factories import make_engineer, open_order, png, staff

PUBLIC_URL = "https://service.example.test"


def _completed(db: Session) -> WorkOrder:
    order = open_order(db, make_asset(db, owner=make_org(db)), actor=staff(db))
    engineer, as_engineer = make_engineer(db)
    order.engineer_id = engineer.id
    db.flush()
    for target in ("accepted", "en_route", "on_site"):
        transition(db, actor=as_engineer, work_order_id=order.id, target=target)
    complete_work_order(
        db,
        actor=as_engineer,
        work_order_id=order.id,
        outcome="fixed",
        signature_png=png(40, 20),
        signed_by="Anna Customer",
        notes="Replaced the hydraulic filter",
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
    assert re.search(rf"{PUBLIC_URL}/certificates/{certificate.id}", text.replace("\n", ""))
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
