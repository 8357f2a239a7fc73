"""The portal's contracts: the one in force, open offers, the text, acceptance and the PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import get_settings
from core.db import SessionDep
from core.errors import InvalidInput, NotFound
from core.web.deps import CurrentPrincipal, require_role
from core.web.templating import render
from crm.models import User
from ledger.models import AnchorRequest
from ledger.qr import anchor_badge
from partner_portal.access import get_distributor
from partner_portal.contracts import (
    accept_contract,
    contracts_of,
    get_contract,
    is_partner_admin,
)
from partner_portal.models import ContractStatus

router = APIRouter()
DistributorPrincipal = Annotated[Principal, Depends(require_role(Role.DISTRIBUTOR))]


@router.get("/portal/contracts", name="portal_contracts")
def contracts_page(
    request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    """The contract in force, open offers and the history."""
    contracts = contracts_of(session, actor=principal, distributor_org_id=principal.org_id)
    return render(
        request,
        "partner_portal/contracts/portal_list.html",
        {
            "in_force": [c for c in contracts if c.status == ContractStatus.ACCEPTED],
            "offered": [c for c in contracts if c.status == ContractStatus.OFFERED],
            "history": [
                c
                for c in contracts
                if c.status not in (ContractStatus.ACCEPTED, ContractStatus.OFFERED)
            ],
            "is_admin": is_partner_admin(session, principal, principal.org_id),
        },
    )


@router.get("/portal/contracts/{contract_id}", name="portal_contract")
def contract_page(
    contract_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """The text; partner admins accept an offer here; staff may look too."""
    contract = get_contract(session, actor=principal, contract_id=contract_id)
    badge = None
    if contract.anchor_request_id is not None:
        anchor = session.get(AnchorRequest, contract.anchor_request_id)
        assert anchor is not None  # a foreign key
        badge = anchor_badge(
            anchor.id, anchor.status, base_url=get_settings().resolved_public_url()
        )
    accepted_by = session.get(User, contract.accepted_by) if contract.accepted_by else None
    return render(
        request,
        "partner_portal/contracts/portal_detail.html",
        {
            "contract": contract,
            "org": get_distributor(session, contract.distributor_org_id),
            "badge": badge,
            "accepted_by": accepted_by,
            "may_accept": contract.status == ContractStatus.OFFERED
            and is_partner_admin(session, principal, contract.distributor_org_id),
        },
    )


@router.post("/portal/contracts/{contract_id}/accept", name="portal_contract_accept")
def accept(
    contract_id: int,
    session: SessionDep,
    principal: DistributorPrincipal,
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Accept an offer; the box "I accept on behalf of ..." must be ticked."""
    get_contract(session, actor=principal, contract_id=contract_id)  # 404 before anything else
    if confirm != "yes":
        raise InvalidInput(
            "Tick the box to confirm you accept on behalf of your organisation.", field="confirm"
        )
    accept_contract(
        session,
        actor=principal,
        contract_id=contract_id,
        public_url=get_settings().resolved_public_url(),
    )
    return RedirectResponse(f"/portal/contracts/{contract_id}", status_code=303)


@router.get("/portal/contracts/{contract_id}/pdf", name="portal_contract_pdf")
def contract_pdf(contract_id: int, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """The accepted contract exactly as anchored."""
    contract = get_contract(session, actor=principal, contract_id=contract_id)
    if contract.pdf is None:
        raise NotFound("This contract has no PDF until it is accepted.", entity="contract_pdf")
    return Response(
        contract.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'attachment; filename="contract-{contract.distributor_org_id}-'
                f'v{contract.version}.pdf"'
            ),
            "X-Content-Type-Options": "nosniff",
        },
    )
