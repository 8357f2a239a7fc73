"""/staff/partners/tiers: tier rules, the period-end review, manual changes and history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import SessionDep
from core.formatting import date_text, reader_of
from core.web.deps import StaffPrincipal
from core.web.templating import is_htmx, render
from crm.models import Organization
from partner_portal.models import DistributorProfile, Tier, TierRule
from partner_portal.tiers import (
    last_quarter_end,
    review_tiers,
    save_tier_rules,
    set_tier,
    tier_history,
)

router = APIRouter()

TEMPLATE = "partner_portal/staff/tiers.html"


def tiers_context(session: Session, *, message: str = "") -> dict[str, Any]:
    """Rules, distributors with their tier, the history and the default review date."""
    return {
        "rules": {r.tier: r for r in session.scalars(select(TierRule))},
        "partners": session.execute(
            select(Organization.id, Organization.name, DistributorProfile.tier)
            .join(DistributorProfile, DistributorProfile.org_id == Organization.id)
            .order_by(Organization.name)
        ).all(),
        "history": tier_history(session),
        "tiers": list(Tier),
        "review_date": last_quarter_end(date.today()),
        "message": message,
    }


def _after(request: Request, session: Session, message: str) -> Response:
    if not is_htmx(request):
        return RedirectResponse("/staff/partners/tiers", status_code=303)
    return render(request, TEMPLATE, tiers_context(session, message=message), block="tiers")


@router.get("/staff/partners/tiers", name="staff_tiers")
def tiers_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    return render(request, TEMPLATE, tiers_context(session))


@router.post("/staff/partners/tiers/review", name="staff_tiers_review")
def run_review(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    period_end: Annotated[date, Form()],
) -> Response:
    """Review every distributor's tier at a period end (finance; idempotent per period end)."""
    result = review_tiers(session, actor=principal, period_end=period_end)
    session.commit()
    message = (
        f"Review of {date_text(period_end, reader_of(request))}: {result.promoted} promoted, "
        f"{result.demoted} demoted, {result.unchanged} unchanged, {result.skipped} reviewed before."
    )
    return _after(request, session, message)


@router.post("/staff/partners/tiers/rules", name="staff_tiers_rules")
def save_rules(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    silver: Annotated[Decimal, Form(ge=0, max_digits=14, decimal_places=2)],
    gold: Annotated[Decimal, Form(ge=0, max_digits=14, decimal_places=2)],
    platinum: Annotated[Decimal, Form(ge=0, max_digits=14, decimal_places=2)],
    currency: Annotated[str, Form(pattern=r"^[A-Z]{3}$")] = "EUR",
) -> Response:
    """Set the minimum trailing 12 months' net value of each tier (finance)."""
    minimums = {"silver": silver, "gold": gold, "platinum": platinum}
    save_tier_rules(session, actor=principal, minimums=minimums, currency=currency)
    session.commit()
    return _after(request, session, "Tier rules saved; they apply from the next review.")


@router.post("/staff/partners/tiers/change", name="staff_tiers_change")
def change_tier(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    org_id: Annotated[int, Form()],
    tier: Annotated[Tier, Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Set a distributor's tier by hand, with the reason kept in the history."""
    change = set_tier(session, actor=principal, org_id=org_id, tier=tier.value, reason=reason)
    session.commit()
    return _after(request, session, "Tier changed." if change else "The tier was already that.")
