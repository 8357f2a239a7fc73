"""The distributor's landing page: year to date, rebates, tier and the monthly chart."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.db import SessionDep
from core.web.templating import render
from crm.views import DistributorPrincipal
from partner_portal.dashboard import chart_data, distributor_dashboard

router = APIRouter()


@router.get("/portal", name="portal_dashboard")
def dashboard_page(
    request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    figures = distributor_dashboard(
        session, actor=principal, distributor_org_id=principal.org_id, today=date.today()
    )
    return render(
        request,
        "partner_portal/dashboard/index.html",
        {"d": figures, "chart": chart_data(figures)},
    )
