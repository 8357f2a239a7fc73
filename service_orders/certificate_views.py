"""Public pages of a service certificate: what the QR code on a printed report opens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from core.config import get_settings
from core.db import SessionDep
from core.errors import NotFound
from core.web.deps import OptionalPrincipal
from core.web.templating import render
from crm.models import Asset, ProductModel
from ledger.models import AnchorRequest
from ledger.qr import anchor_badge, verify_path
from ledger.service import document_label, verify_request
from service_orders.models import ServiceCertificate, WorkOrder

router = APIRouter(include_in_schema=False)


def _certificate(session: SessionDep, certificate_id: uuid.UUID) -> ServiceCertificate:
    certificate = session.get(ServiceCertificate, certificate_id)
    if certificate is None:
        raise NotFound("No such certificate.", entity="service_certificates")
    return certificate


# registered before the page: "/certificates/{id}" would also match "<id>.pdf"
@router.get("/certificates/{certificate_id}.pdf")
def certificate_pdf(certificate_id: uuid.UUID, session: SessionDep) -> Response:
    """The report exactly as issued and anchored (its SHA-256 is what the chain holds)."""
    certificate = _certificate(session, certificate_id)
    return Response(
        certificate.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="service-report-{certificate.id}.pdf"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/certificates/{certificate_id}")
def certificate_page(
    request: Request,
    certificate_id: uuid.UUID,
    session: SessionDep,
    principal: OptionalPrincipal,  # public, but a logged-in reader keeps their navigation
) -> Response:
    """The report's summary, its record on the chain and a check of a copy (no login)."""
    certificate = _certificate(session, certificate_id)
    order, serial, model = session.execute(
        select(WorkOrder, Asset.serial, ProductModel.name)
        .join(Asset, Asset.id == WorkOrder.asset_id)
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .where(WorkOrder.id == certificate.work_order_id)
    ).one()
    anchor = session.get(AnchorRequest, certificate.anchor_request_id)
    assert anchor is not None  # a foreign key
    settings = get_settings()
    verdict = verify_request(
        session, request=anchor, rpc_url=settings.resolved_rpc_url(), document=certificate.pdf
    )
    return render(
        request,
        "service_orders/certificate.html",
        {
            "certificate": certificate,
            "order": order,
            "serial": serial,
            "model": model,
            "verdict": verdict,
            "badge": anchor_badge(
                anchor.id, anchor.status, base_url=settings.resolved_public_url()
            ),
            # for ledger/_check.html: a copy is checked against this report's anchor
            "anchor_request": anchor,
            "label": document_label(anchor.kind),
            "check_url": verify_path(anchor.id),
            "errors": {},
        },
    )
