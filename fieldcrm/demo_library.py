"""The partner portal's demo content: documents with versions and audiences, a policy to
acknowledge, training videos, inquiries at different stages of approval, and contracts (four
distributors accepted theirs; the first demo distributor has an offer waiting).

Created through the service functions (uploads go through the same checks as the pages).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from crm.models import Organization, OrgKind, ProductModel
from fieldcrm.demo_portal import user
from partner_portal.approval_workflow import ensure_default_workflow
from partner_portal.approvals import Decision, pending_approvals
from partner_portal.contracts import accept_contract, create_template_version, offer_contract
from partner_portal.inquiries import LineRequest, decide_inquiry, submit
from partner_portal.library import DocumentIn, acknowledge, add_version, create_document
from partner_portal.models import InquiryKind, Tier
from partner_portal.training import VideoIn, upload_video
from partner_portal.uploads import StoredUpload, UploadKind, store_upload

MEDIA = Path(__file__).resolve().parent / "demo_media"

# (title, category, family, description, requires acknowledgement, audience tiers)
_DOCUMENTS = [
    (
        "Price list 2026",
        "Price lists",
        None,
        "Net list prices for all product lines, valid from 1 January 2026.",
        False,
        [],
    ),
    (
        "Warranty and returns policy",
        "Policies",
        None,
        "How warranty claims and returns of goods are handled; partners must acknowledge it.",
        True,
        [],
    ),
    (
        "EX-220 excavator service manual",
        "Manuals",
        "excavator",
        "Maintenance intervals, hydraulic system checks and torque tables for the EX-220.",
        False,
        [],
    ),
    (
        "AC-75 compressor installation guide",
        "Manuals",
        "compressor",
        "Installation, commissioning and first start of the AC-75 air compressor.",
        False,
        [],
    ),
    (
        "Platinum partner marketing kit",
        "Marketing",
        None,
        "Co-branded brochures and campaign material for platinum partners.",
        False,
        [Tier.PLATINUM],
    ),
    (
        "Chiller CH-400 energy efficiency brochure",
        "Marketing",
        "chiller",
        "Seasonal energy efficiency figures and savings compared with the previous series.",
        False,
        [Tier.GOLD, Tier.PLATINUM],
    ),
]
_AGREEMENT = """DISTRIBUTION AGREEMENT

between Nordwind Machinery (the Manufacturer) and {{ distributor_name }} (the Distributor)
for the region {{ region }}.

1. Appointment. The Manufacturer appoints the Distributor as a {{ tier }} partner for the
   region {{ region }} from {{ valid_from }} until {{ valid_to }}.
2. Rebates. Pickups are rebated under the Manufacturer's rebate programs as published in
   the partner portal; statements are settled quarterly.
3. Documents. The Distributor acknowledges the policies published in the partner portal.
4. Contact. Notices go to {{ contact_email }}.

Signed online on {{ today }}.
"""


def seed_library(session: Session) -> None:
    """Documents, videos, inquiries and contracts of the demo (run once by the seed)."""
    admin = user(session, "admin")
    for index, (title, category, family, description, policy, tiers) in enumerate(_DOCUMENTS):
        document = create_document(
            session,
            actor=admin,
            data=DocumentIn(
                title=title,
                description=description,
                category=category,
                product_family=family,
                requires_acknowledgement=policy,
                audience_tiers=tiers,
            ),
            upload=_pdf_upload(f"{title}.pdf", title, description, version=1),
        )
        if index < 2:  # the price list and the policy were revised once
            add_version(
                session,
                actor=admin,
                document_id=document.id,
                upload=_pdf_upload(f"{title}.pdf", title, description, version=2),
                change_note="Revised for the second half of the year.",
            )
        if policy:
            for local in ("distributor2", "distributor3", "distributor4"):
                acknowledge(session, actor=user(session, local), document_id=document.id)
    for title, family, description in [
        ("Hydraulic system basics", "excavator", "Pressure, flow and the checks that matter."),
        ("Compressor commissioning", "compressor", "From unpacking to the first pressure test."),
    ]:
        with (MEDIA / "training-sample.webm").open("rb") as video:
            upload = store_upload(video, kind=UploadKind.VIDEOS, original_filename=f"{title}.webm")
        upload_video(
            session,
            actor=admin,
            data=VideoIn(
                title=title, product_family=family, description=description, duration_s=20
            ),
            upload=upload,
        )
    _inquiries(session)
    _contracts(session)


def _pdf_upload(filename: str, title: str, description: str, *, version: int) -> StoredUpload:
    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 1, 2, tzinfo=UTC))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, f"Version {version}\n\n{description}\n\nNordwind Machinery - partner use.")
    return store_upload(
        io.BytesIO(bytes(pdf.output())), kind=UploadKind.DOCUMENTS, original_filename=filename
    )


def _inquiries(session: Session) -> None:
    """One waiting for the sales review, one approved quote, one sent back for changes."""
    ensure_default_workflow(session)
    products = {p.code: p.id for p in session.scalars(select(ProductModel))}
    partner = user(session, "distributor")
    waiting = submit(
        session,
        actor=partner,
        kind=InquiryKind.QUOTE_REQUEST,
        subject="Five EX-220 for the Isar Bau fleet renewal",
        message="Customer plans to replace five older machines in spring; tender closes soon.",
        lines=[
            LineRequest(products["EX-220"], Decimal(5), requested_discount_pct=Decimal(15)),
            LineRequest(products["AC-75"], Decimal(2)),
        ],
    )
    approved = submit(
        session,
        actor=user(session, "distributor3"),
        kind=InquiryKind.QUOTE_REQUEST,
        subject="Two CH-400 chillers for a data centre",
        message="Repeat order, same terms as last year.",
        lines=[LineRequest(products["CH-400"], Decimal(2), requested_discount_pct=Decimal(8))],
    )
    changes = submit(
        session,
        actor=user(session, "distributor2"),
        kind=InquiryKind.INQUIRY,
        subject="Generator rental fleet pricing",
        message="Could we get 25% on ten GN-500 for a rental fleet?",
        lines=[LineRequest(products["GN-500"], Decimal(10), requested_discount_pct=Decimal(25))],
    )
    sales = user(session, "sales")
    for approval, inquiry in pending_approvals(session):
        if inquiry.id == approved.id:
            decide_inquiry(
                session,
                actor=sales,
                inquiry_id=inquiry.id,
                approval_id=approval.id,
                decision=Decision.APPROVE,
                comment="Repeat customer, fine.",
            )
        elif inquiry.id == changes.id:
            decide_inquiry(
                session,
                actor=sales,
                inquiry_id=inquiry.id,
                approval_id=approval.id,
                decision=Decision.REQUEST_CHANGES,
                comment="25% is beyond rental terms; please ask for 18% and a 3-year service deal.",
            )
    # the chillers' total is over the director's limit: the director approves it too
    for approval, inquiry in pending_approvals(session):
        if inquiry.id == approved.id:
            decide_inquiry(
                session,
                actor=user(session, "director"),
                inquiry_id=inquiry.id,
                approval_id=approval.id,
                decision=Decision.APPROVE,
                comment="Approved at these terms.",
            )
    del waiting  # stays with the sales review: the demo's "inquiry waiting for approval"


def _contracts(session: Session) -> None:
    admin = user(session, "admin")
    template = create_template_version(
        session, actor=admin, name="Distribution agreement", body=_AGREEMENT
    )
    public_url = get_settings().resolved_public_url()
    distributors = session.scalars(
        select(Organization)
        .where(Organization.kind == OrgKind.DISTRIBUTOR)
        .order_by(Organization.id)
    ).all()
    for index, org in enumerate(distributors):
        contract = offer_contract(
            session,
            actor=admin,
            distributor_org_id=org.id,
            template_id=template.id,
            valid_from=date(date.today().year, 1, 1),
            valid_to=date(date.today().year + 1, 12, 31),
        )
        if index > 0:  # the first demo distributor accepts theirs in the demo
            accept_contract(
                session,
                actor=user(session, f"distributor{index + 1}"),
                contract_id=contract.id,
                public_url=public_url,
            )
