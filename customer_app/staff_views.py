"""Staff page of customer satisfaction: CSAT and NPS per engineer and per month."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.db import SessionDep, utcnow
from core.web.deps import StaffPrincipal
from core.web.templating import render
from customer_app.surveys import satisfaction_report

router = APIRouter(include_in_schema=False)
DEFAULT_PERIOD = timedelta(days=365)


@router.get("/staff/satisfaction", name="staff_satisfaction")
def satisfaction(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    start: date | None = None,
    end: date | None = None,
) -> Response:
    """Survey results of a period (default: the last 12 months), per engineer and month."""
    end = end or utcnow().date()
    start = start or end - DEFAULT_PERIOD
    report = satisfaction_report(session, actor=principal, start=start, end=end)
    return render(request, "customer_app/satisfaction.html", {"report": report})
