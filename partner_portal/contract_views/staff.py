"""Staff pages: the distributors (tier, region, users, contract status), one distributor
(tier change, users, contracts, offering a contract) and the contract templates."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from core.db import SessionDep
from core.errors import InvalidInput
from core.web.deps import StaffPrincipal
from core.web.templating import render
from crm.capabilities import users_with_capability
from crm.models import Capability, User
from partner_portal.access import get_distributor
from partner_portal.contracts import (
    PLACEHOLDERS,
    contracts_of,
    create_template_version,
    distributor_overview,
    list_templates,
    offer_contract,
    withdraw_offer,
)
from partner_portal.models import DistributorProfile, Tier, TierChange
from partner_portal.tiers import set_tier

router = APIRouter()
DateForm = Annotated[str, Form(max_length=10)]


@router.get("/staff/partners/distributors", name="staff_distributors")
def distributors_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    return render(
        request,
        "partner_portal/contracts/staff_distributors.html",
        {"rows": distributor_overview(session, actor=principal)},
    )


@router.get("/staff/partners/distributors/{org_id}", name="staff_distributor")
def distributor_page(
    org_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    org = get_distributor(session, org_id)
    admins = {
        u.id
        for u in users_with_capability(session, capability=Capability.PARTNER_ADMIN, org_id=org.id)
    }
    return render(
        request,
        "partner_portal/contracts/staff_distributor.html",
        {
            "org": org,
            "profile": session.get(DistributorProfile, org.id),
            "tiers": list(Tier),
            "tier_changes": session.scalars(
                select(TierChange)
                .where(TierChange.org_id == org.id)
                .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
                .limit(20)
            ).all(),
            "users": session.scalars(
                select(User).where(User.org_id == org.id).order_by(User.full_name, User.id)
            ).all(),
            "admins": admins,
            "contracts": contracts_of(session, actor=principal, distributor_org_id=org.id),
            "templates": list_templates(session),
        },
    )


@router.post("/staff/partners/distributors/{org_id}/tier", name="staff_distributor_tier")
def change_tier(
    org_id: int,
    session: SessionDep,
    principal: StaffPrincipal,
    tier: Annotated[str, Form(max_length=16)],
    reason: Annotated[str, Form(max_length=2000)],
) -> Response:
    """A manual tier change with its reason (written to the tier history)."""
    get_distributor(session, org_id)
    set_tier(session, actor=principal, org_id=org_id, tier=tier, reason=reason)
    return RedirectResponse(f"/staff/partners/distributors/{org_id}", status_code=303)


@router.post("/staff/partners/distributors/{org_id}/offers", name="staff_distributor_offer")
def offer(
    org_id: int,
    session: SessionDep,
    principal: StaffPrincipal,
    template_id: Annotated[int, Form()],
    valid_from: DateForm,
    valid_to: DateForm = "",
) -> Response:
    """Offer a template version to the distributor (an older open offer is superseded)."""
    offer_contract(
        session,
        actor=principal,
        distributor_org_id=org_id,
        template_id=template_id,
        valid_from=_date(valid_from, "valid_from"),
        valid_to=_date(valid_to, "valid_to") if valid_to.strip() else None,
    )
    return RedirectResponse(f"/staff/partners/distributors/{org_id}", status_code=303)


@router.post("/staff/partners/contracts/{contract_id}/withdraw", name="staff_contract_withdraw")
def withdraw(contract_id: int, session: SessionDep, principal: StaffPrincipal) -> Response:
    contract = withdraw_offer(session, actor=principal, contract_id=contract_id)
    return RedirectResponse(
        f"/staff/partners/distributors/{contract.distributor_org_id}", status_code=303
    )


@router.get("/staff/partners/contracts", name="staff_contract_templates")
def templates_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    return render(
        request,
        "partner_portal/contracts/staff_templates.html",
        {"templates": list_templates(session), "placeholders": PLACEHOLDERS},
    )


@router.post("/staff/partners/contracts", name="staff_contract_template_create")
def create_template(
    session: SessionDep,
    principal: StaffPrincipal,
    name: Annotated[str, Form(max_length=200)],
    body: Annotated[str, Form(max_length=100_000)],
) -> Response:
    """A new version of the named template (version = the latest + 1)."""
    create_template_version(session, actor=principal, name=name, body=body)
    return RedirectResponse("/staff/partners/contracts", status_code=303)


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"Enter {field.replace('_', ' ')} as YYYY-MM-DD.", field=field) from exc
