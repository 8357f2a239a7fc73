"""/staff/partners: every distributor with tier, region and year-to-date net value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.db import SessionDep
from core.web.deps import StaffPrincipal
from core.web.templating import render
from crm.models import Organization, OrgKind
from partner_portal.dashboard import DEFAULT_CURRENCY
from partner_portal.models import DistributorProfile, PickupLine, Tier, TierRule

router = APIRouter()


@dataclass(frozen=True, slots=True)
class PartnerRow:
    """One distributor in the overview."""

    org_id: int
    name: str
    tier: str
    region: str
    ytd_net_value: Decimal


def partner_overview(session: Session, *, today: date) -> tuple[str, list[PartnerRow]]:
    """Distributors by name with their year-to-date net value in the tier rules' currency."""
    currency = session.scalars(select(TierRule.currency).limit(1)).first() or DEFAULT_CURRENCY
    ytd = (
        select(PickupLine.distributor_org_id, func.sum(PickupLine.net_value).label("value"))
        .where(
            PickupLine.currency == currency,
            PickupLine.picked_on >= date(today.year, 1, 1),
            PickupLine.picked_on <= today,
        )
        .group_by(PickupLine.distributor_org_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Organization.id,
            Organization.name,
            func.coalesce(DistributorProfile.tier, Tier.SILVER.value),
            func.coalesce(DistributorProfile.region, ""),
            func.coalesce(ytd.c.value, 0),
        )
        .outerjoin(DistributorProfile, DistributorProfile.org_id == Organization.id)
        .outerjoin(ytd, and_(ytd.c.distributor_org_id == Organization.id))
        .where(Organization.kind == OrgKind.DISTRIBUTOR)
        .order_by(Organization.name)
    )
    return currency, [PartnerRow(*row) for row in rows]


@router.get("/staff/partners", name="staff_partners")
def overview_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    currency, rows = partner_overview(session, today=date.today())
    return render(
        request,
        "partner_portal/staff/overview.html",
        {"rows": rows, "currency": currency},
    )
