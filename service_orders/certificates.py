"""Completion certificates: a PDF service report per completed work order, anchored on the ledger.

The report's QR code points at the certificate's public page, which checks the stored PDF
against the chain (the ledger knows only the hash and a reference, never the work order).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import segno
from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import IllegalTransition, NotFound
from core.pdf import latin1
from crm.models import Asset, Organization, ProductModel, Site, User
from ledger.service import request_anchor
from service_orders.models import Engineer, ServiceCertificate, WorkOrder
from service_orders.states import Status

CERTIFICATE_KIND = "service_certificate"
_ISSUABLE = {Status.COMPLETED.value, Status.CLOSED.value}


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What a service report states, gathered once."""

    number: str
    title: str
    outcome: str
    asset: str
    serial: str
    site: str
    customer: str
    engineer: str
    on_site_at: datetime | None
    completed_at: datetime | None
    time_on_site_s: int | None
    checklist: Sequence[dict[str, object]]
    parts: Sequence[dict[str, object]]
    notes: str
    signed_by: str
    signature_png: bytes | None


def certificate_path(certificate_id: uuid.UUID) -> str:
    return f"/certificates/{certificate_id}"


def issue_certificate(
    session: Session, *, work_order_id: int, public_url: str
) -> ServiceCertificate:
    """The work order's certificate, issued and queued for anchoring on first call."""
    existing = session.scalar(
        select(ServiceCertificate).where(ServiceCertificate.work_order_id == work_order_id)
    )
    if existing is not None:
        return existing
    order = session.get(WorkOrder, work_order_id)
    if order is None:
        raise NotFound(f"No work order {work_order_id}.", entity="work_orders")
    if order.status not in _ISSUABLE:
        raise IllegalTransition("A certificate is issued once the work order is completed.")
    certificate_id = uuid.uuid4()
    pdf = render_report(
        _facts(session, order), qr_url=public_url + certificate_path(certificate_id)
    )
    digest = hashlib.sha256(pdf).hexdigest()
    anchor = request_anchor(
        session, sha256=digest, kind=CERTIFICATE_KIND, reference=f"work_order:{order.number}"
    )
    certificate = ServiceCertificate(
        id=certificate_id,
        work_order_id=order.id,
        sha256=digest,
        pdf=pdf,
        anchor_request_id=anchor.id,
    )
    session.add(certificate)
    session.flush()
    return certificate


def issue_missing_certificates(session: Session, *, public_url: str, limit: int = 100) -> int:
    """Certificates for completed work orders that have none yet (the job's safety net)."""
    missing = session.scalars(
        select(WorkOrder.id)
        .where(
            WorkOrder.status.in_(_ISSUABLE),
            WorkOrder.id.not_in(select(ServiceCertificate.work_order_id)),
        )
        .order_by(WorkOrder.id)
        .limit(limit)
    ).all()
    for work_order_id in missing:
        issue_certificate(session, work_order_id=work_order_id, public_url=public_url)
    return len(missing)


def _facts(session: Session, order: WorkOrder) -> ReportFacts:
    asset, model, site, owner = session.execute(
        select(Asset, ProductModel, Site, Organization)
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .join(Site, Site.id == Asset.site_id)
        .join(Organization, Organization.id == Asset.owner_org_id)
        .where(Asset.id == order.asset_id)
    ).one()
    engineer = ""
    if order.engineer_id is not None:
        engineer = (
            session.scalar(
                select(User.full_name)
                .join(Engineer, Engineer.user_id == User.id)
                .where(Engineer.id == order.engineer_id)
            )
            or ""
        )
    return ReportFacts(
        order.number,
        order.title,
        order.outcome or "",
        model.name,
        asset.serial,
        f"{site.name}, {site.address}",
        owner.name,
        engineer,
        order.on_site_at,
        order.completed_at,
        order.time_on_site_s,
        order.checklist,
        order.parts,
        order.notes,
        order.signed_by or "",
        order.signature_png,
    )


def render_report(facts: ReportFacts, *, qr_url: str) -> bytes:
    """The service report as PDF bytes: what was done, signed, with the verification QR code."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Service report {facts.number}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, latin1(f"Service report {facts.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    rows = [
        ("Work", facts.title),
        ("Outcome", facts.outcome.replace("_", " ")),
        ("Equipment", f"{facts.asset}, serial {facts.serial}"),
        ("Site", facts.site),
        ("Customer", facts.customer),
        ("Engineer", facts.engineer),
        ("On site", _when(facts.on_site_at)),
        ("Completed", _when(facts.completed_at)),
        ("Time on site", _duration(facts.time_on_site_s)),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(40, 7, label)
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 7, latin1(value), new_x="LMARGIN", new_y="NEXT")
    _section(
        pdf,
        "Checklist",
        [f"[{'x' if i.get('done') else ' '}] {i.get('label', '')}" for i in facts.checklist]
        or ["(none)"],
    )
    _section(
        pdf,
        "Parts used",
        [f"{p.get('quantity', 1)} x {p.get('name', p.get('part', ''))}" for p in facts.parts]
        or ["(none)"],
    )
    _section(pdf, "Notes", [facts.notes or "(none)"])
    y = pdf.get_y() + 4
    if facts.signature_png:
        pdf.image(io.BytesIO(facts.signature_png), x=10, y=y, w=70)
        pdf.set_xy(10, y + 32)
        pdf.cell(70, 6, latin1(f"Signed by {facts.signed_by}"))
    qr = io.BytesIO()
    segno.make(qr_url, error="m").save(qr, kind="png", scale=4, border=2)
    pdf.image(io.BytesIO(qr.getvalue()), x=150, y=y, w=40)
    pdf.set_xy(120, y + 42)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(80, 4, latin1(f"Scan to verify this report: {qr_url}"))
    return bytes(pdf.output())


def _section(pdf: FPDF, title: str, lines: list[str]) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for line in lines:
        pdf.multi_cell(0, 6, latin1(line), new_x="LMARGIN", new_y="NEXT")


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _duration(seconds: int | None) -> str:
    if not seconds:
        return "-"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
