"""Completion certificates: a PDF service report per completed work order, anchored on the ledger.

The report's QR code points at the certificate's public page, which checks the stored PDF
against the chain (the ledger knows only the hash and a reference, never the work order).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import segno
from fpdf import FPDF
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import utcnow
from core.errors import IllegalTransition, NotFound
from core.formatting import Reader, datetime_text
from core.labels import label
from core.pdf import printable
from crm.company import Letterhead, letterhead_for, manufacturer_org_id, snapshot_letterhead
from crm.letterhead import FONT, DocumentPDF, print_letterhead
from crm.models import Asset, Organization, ProductModel, Site, User
from ledger.service import request_anchor
from service_orders.models import (
    Engineer,
    ServiceCertificate,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderPhoto,
)
from service_orders.photos import photo_directory
from service_orders.signature import normalised_signature
from service_orders.states import Status

CERTIFICATE_KIND = "service_certificate"
ISSUABLE = frozenset({Status.COMPLETED.value, Status.CLOSED.value})
# what each status change means as a step of the visit, in the report's timeline
_STEPS = {
    Status.NEW: "Opened",
    Status.OFFERED: "Offered to an engineer",
    Status.DECLINED: "Declined",
    Status.REASSIGNED: "Taken back for another engineer",
    Status.OVERDUE: "Respond-by passed",
    Status.ACCEPTED: "Accepted",
    Status.EN_ROUTE: "On the way",
    Status.ON_SITE: "Arrived on site",
    Status.ON_HOLD: "Put on hold",
    Status.COMPLETED: "Completed",
    Status.CLOSED: "Closed",
    Status.CANCELLED: "Cancelled",
}
THUMB_PX = 480  # long side of a photo in the report: enough to see, small enough to keep
THUMB_MM = 44
NO_LETTERHEAD = Letterhead("")


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
    steps: Sequence[tuple[datetime, str]] = ()
    # JPEG thumbnails in upload order; None where the file could not be read
    photos: Sequence[bytes | None] = ()
    issuer: Letterhead = NO_LETTERHEAD
    recipient: Letterhead = NO_LETTERHEAD
    # the PDF's creation date: the same facts and issue time give the same bytes
    issued_at: datetime | None = None


def certificate_path(certificate_id: uuid.UUID) -> str:
    return f"/certificates/{certificate_id}"


def issue_certificate(
    session: Session, *, work_order_id: int, public_url: str, photo_dir: Path | None = None
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
    if order.status not in ISSUABLE:
        raise IllegalTransition("A certificate is issued once the work order is completed.")
    if order.signature_png is not None:
        # one stored before signatures were checked says what is wrong with it, in words
        normalised_signature(order.signature_png)
    certificate = ServiceCertificate(
        id=uuid.uuid4(),
        work_order_id=order.id,
        issued_at=utcnow(),
        issuer_profile_id=snapshot_letterhead(session, manufacturer_org_id(session)),
        recipient_profile_id=snapshot_letterhead(session, _owner_org_id(session, order)),
    )
    pdf = render_issued_report(
        session, certificate, public_url=public_url, photo_dir=photo_dir, order=order
    )
    digest = hashlib.sha256(pdf).hexdigest()
    anchor = request_anchor(
        session, sha256=digest, kind=CERTIFICATE_KIND, reference=f"work_order:{order.number}"
    )
    certificate.sha256 = digest
    certificate.pdf = pdf
    certificate.anchor_request_id = anchor.id
    session.add(certificate)
    session.flush()
    return certificate


def render_issued_report(
    session: Session,
    certificate: ServiceCertificate,
    *,
    public_url: str,
    photo_dir: Path | None = None,
    order: WorkOrder | None = None,
) -> bytes:
    """The certificate's report from its work order and the letterheads it keeps: the bytes it
    was issued with, as long as the visit's records and photos are unchanged."""
    order = order or session.get_one(WorkOrder, certificate.work_order_id)
    photos = photo_dir if photo_dir is not None else photo_directory(get_settings())
    facts = _facts(session, order, photos)
    owner = _owner_org_id(session, order)
    facts = replace(
        facts,
        issuer=letterhead_for(
            session,
            snapshot_id=certificate.issuer_profile_id,
            org_id=manufacturer_org_id(session),
        ),
        recipient=letterhead_for(
            session, snapshot_id=certificate.recipient_profile_id, org_id=owner
        ),
        issued_at=certificate.issued_at,
    )
    return render_report(facts, qr_url=public_url + certificate_path(certificate.id))


def _owner_org_id(session: Session, order: WorkOrder) -> int:
    return session.get_one(Asset, order.asset_id).owner_org_id


def _facts(session: Session, order: WorkOrder, photo_dir: Path) -> ReportFacts:
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
        _steps(session, order),
        [_thumbnail(photo_dir / p.stored_name) for p in _photos(session, order.id)],
    )


def _steps(session: Session, order: WorkOrder) -> list[tuple[datetime, str]]:
    """Each status change with its time, in words; the completion names its outcome."""
    events = session.scalars(
        select(WorkOrderEvent)
        .where(WorkOrderEvent.work_order_id == order.id)
        .order_by(WorkOrderEvent.at, WorkOrderEvent.id)
    ).all()
    steps = []
    for event in events:
        status = Status(event.to_status)
        words = _STEPS[status]
        if status == Status.COMPLETED and order.outcome:
            words = f"{words}: {label(order.outcome, 'work_order_outcome').lower()}"
        elif event.note and status != Status.COMPLETED:
            words = f"{words} ({event.note})"
        steps.append((event.at, words))
    return steps


def _photos(session: Session, work_order_id: int) -> Sequence[WorkOrderPhoto]:
    query = select(WorkOrderPhoto).where(WorkOrderPhoto.work_order_id == work_order_id)
    return session.scalars(query.order_by(WorkOrderPhoto.id)).all()


def _thumbnail(path: Path) -> bytes | None:
    """A small JPEG of a stored photo; None if the file is gone or unreadable (the report says
    so rather than not being issued)."""
    try:
        with Image.open(path) as image:
            image.thumbnail((THUMB_PX, THUMB_PX))
            out = io.BytesIO()
            image.convert("RGB").save(out, format="JPEG", quality=80)
            return out.getvalue()
    except (OSError, UnidentifiedImageError):
        return None


def render_report(facts: ReportFacts, *, qr_url: str) -> bytes:
    """The service report as PDF bytes: what was done, signed, with the verification QR code."""
    pdf = DocumentPDF(facts.issuer, name=f"Service report {facts.number}")
    if facts.issued_at is not None:
        pdf.set_creation_date(facts.issued_at)
    pdf.set_title(f"Service report {facts.number}")
    if facts.issuer.legal_name:
        pdf.set_author(printable(facts.issuer.legal_name))
    pdf.add_page()
    if facts.issuer.legal_name:
        print_letterhead(pdf, facts.issuer, recipient=facts.recipient, recipient_label="Customer")
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 10, printable(f"Service report {facts.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    reader = facts.recipient.reader  # the customer's zone and locale, kept at issue
    rows = [
        ("Work", facts.title),
        ("Outcome", label(facts.outcome, "work_order_outcome")),
        ("Equipment", f"{facts.asset}, serial {facts.serial}"),
        ("Site", facts.site),
        *([] if facts.recipient.legal_name else [("Customer", facts.customer)]),
        ("Engineer", facts.engineer),
        ("On site", _when(facts.on_site_at, reader)),
        ("Completed", _when(facts.completed_at, reader)),
        ("Time on site", _duration(facts.time_on_site_s)),
    ]
    for name, value in rows:
        pdf.set_font(FONT, "B", 11)
        pdf.cell(40, 7, name)
        pdf.set_font(FONT, "", 11)
        pdf.multi_cell(0, 7, printable(value), new_x="LMARGIN", new_y="NEXT")
    _section(pdf, "Checklist", [_check_line(i) for i in facts.checklist] or ["(none)"])
    _section(pdf, "Parts used", [_part_line(p) for p in facts.parts] or ["(none)"])
    _section(pdf, "Notes", [facts.notes or "(none)"])
    steps = [f"{_when(at, reader)} {words}" for at, words in facts.steps]
    _section(pdf, "Steps", steps or ["(none)"])
    _photo_grid(pdf, facts.photos)
    if pdf.get_y() > pdf.h - 85:  # signature, QR code and its words stay on one page
        pdf.add_page()
    y = pdf.get_y() + 4
    if facts.signature_png:
        pdf.image(io.BytesIO(facts.signature_png), x=10, y=y, w=70)
        pdf.set_xy(10, y + 32)
        pdf.cell(70, 6, printable(f"Signed by {facts.signed_by}"))
    qr = io.BytesIO()
    segno.make(qr_url, error="m").save(qr, kind="png", scale=4, border=2)
    pdf.image(io.BytesIO(qr.getvalue()), x=150, y=y, w=40)
    pdf.set_xy(120, y + 42)
    pdf.set_font(FONT, "", 8)
    pdf.multi_cell(80, 4, printable(f"Scan to verify this report: {qr_url}"), align="L")
    return pdf.finished()


def _section(pdf: FPDF, title: str, lines: list[str]) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for line in lines:
        pdf.multi_cell(0, 6, printable(line), new_x="LMARGIN", new_y="NEXT")


def _check_line(item: dict[str, object]) -> str:
    note = str(item.get("note") or "").strip()
    done = "Done" if item.get("done") else "Not done"
    return f"{done}: {item.get('label', '')}" + (f" ({note})" if note else "")


def _part_line(part: dict[str, object]) -> str:
    """'2 x CND-GSK-400 Condenser gasket set' (the quantity without trailing zeros)."""
    quantity = Decimal(str(part.get("quantity", 1)))
    amount = f"{quantity.normalize():f}"
    name = " ".join(str(part.get(key) or "").strip() for key in ("part_no", "description"))
    return f"{amount} x {name.strip()}"


def _photo_grid(pdf: FPDF, photos: Sequence[bytes | None]) -> None:
    """The photos as thumbnails, four to a row, each numbered as on the engineer's page."""
    if not photos:
        return
    _section(pdf, f"Photos ({len(photos)})", [])
    per_row, gap = 4, 3.0
    for start in range(0, len(photos), per_row):
        row = photos[start : start + per_row]
        height = max(_thumb_height(p) for p in row)
        if pdf.get_y() + height + 6 > pdf.h - pdf.b_margin:
            pdf.add_page()
        top = pdf.get_y()
        for column, photo in enumerate(row):
            x = pdf.l_margin + column * (THUMB_MM + gap)
            if photo is None:
                pdf.set_xy(x, top)
                pdf.multi_cell(THUMB_MM, 5, f"Photo {start + column + 1}: file missing")
            else:
                pdf.image(io.BytesIO(photo), x=x, y=top, w=THUMB_MM)
            pdf.set_xy(x, top + height + 0.5)
            pdf.set_font(FONT, "", 8)
            pdf.cell(THUMB_MM, 4, f"Photo {start + column + 1}")
            pdf.set_font(FONT, "", 10)
        pdf.set_xy(pdf.l_margin, top + height + 6)


def _thumb_height(photo: bytes | None) -> float:
    if photo is None:
        return 10.0
    with Image.open(io.BytesIO(photo)) as image:
        width, height = image.size
    return THUMB_MM * height / width


def _when(value: datetime | None, reader: Reader) -> str:
    return datetime_text(value, reader) if value else "-"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return "under 1 min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
