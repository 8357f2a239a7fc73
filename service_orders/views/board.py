"""The dispatch board: map and lists of assets and engineers, the queue with SLA clocks, KPIs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import get_settings
from core.db import SessionDep, utcnow
from core.web.deps import AdminPrincipal, StaffPrincipal
from core.web.flash import see_other
from core.web.templating import is_htmx, render
from service_orders.dispatch import assign_by_hand, dispatch
from service_orders.dispatch.explain import decision_rows, score_rule
from service_orders.kpis import PERIODS, Period, duration, service_kpis
from service_orders.models import WorkOrder
from service_orders.queries import (
    board_assets,
    board_engineers,
    countdown,
    dispatch_queue,
    health_band,
    jobs_in_progress,
)
from service_orders.report_issuing import MAX_ATTEMPTS, report_failures, retry_report
from service_orders.web import OfferPublisher

router = APIRouter()

BOARD_TEMPLATE = "service_orders/board.html"
LISTED_ASSETS = 50  # the map shows them all; the list only the sickest
KPI_PERIODS = 6


def kpi_context(session: Session, period: Period) -> dict[str, Any]:
    """The KPI panel: the last periods, newest first."""
    return {
        "period": period,
        "periods": PERIODS,
        "kpis": service_kpis(session, period=period, count=KPI_PERIODS)[::-1],
        "duration": duration,
    }


def queue_context(session: Session) -> dict[str, Any]:
    """The queue of waiting work orders and the jobs in progress, with who could take them."""
    engineers = board_engineers(session)
    return {
        "queue": dispatch_queue(session),
        "in_progress": jobs_in_progress(session),
        "engineers": engineers,
        "names": {e.id: e.name for e in engineers},
        "countdown": countdown,
        "decision_rows": decision_rows,
        "score_rule": score_rule(),
        "now": utcnow(),
    }


def failures_context(session: Session, principal: Principal) -> dict[str, Any]:
    """The service reports that could not be made; administrators may retry them now."""
    return {
        "report_failures": report_failures(session),
        "max_attempts": MAX_ATTEMPTS,
        "can_retry": principal.role == Role.ADMIN,
    }


def board_context(session: Session, principal: Principal, period: Period) -> dict[str, Any]:
    assets = board_assets(session, principal=principal)
    return {
        **failures_context(session, principal),
        **queue_context(session),
        **kpi_context(session, period),
        "assets": assets[:LISTED_ASSETS],
        "asset_total": len(assets),
        "health_band": health_band,
    }


@router.get("/staff/dispatch", name="dispatch_board")
def board(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    period: Annotated[Period, Query()] = "week",
) -> Response:
    return render(request, BOARD_TEMPLATE, board_context(session, principal, period))


@router.get("/staff/dispatch/kpis", name="dispatch_kpis")
def kpi_panel(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    period: Annotated[Period, Query()] = "week",
) -> Response:
    """The KPI panel for another period (htmx); a plain request gets the whole board."""
    if not is_htmx(request):
        return RedirectResponse(f"/staff/dispatch?period={period}", status_code=303)
    return render(request, BOARD_TEMPLATE, kpi_context(session, period), block="kpis")


@router.get("/staff/dispatch/queues", name="dispatch_queues")
def queues(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    """The queues alone, refreshed by the board every 30 s."""
    if not is_htmx(request):
        return RedirectResponse("/staff/dispatch", status_code=303)
    return render(request, BOARD_TEMPLATE, queue_context(session), block="queues")


@router.post("/staff/dispatch/work-orders/{work_order_id}/assign", name="dispatch_assign")
def assign(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    engineer_id: Annotated[int, Form()],
) -> Response:
    """Assign or reassign by hand; the engineer's page shows the job on its next refresh."""
    assign_by_hand(session, actor=principal, work_order_id=work_order_id, engineer_id=engineer_id)
    return _after_change(request, session)


@router.post("/staff/dispatch/work-orders/{work_order_id}/dispatch", name="dispatch_again")
def dispatch_now(
    work_order_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    publish: OfferPublisher,
) -> Response:
    """Run dispatch again now (e.g. after an engineer came on shift)."""
    dispatch(session, work_order_id=work_order_id)
    session.commit()
    publish(session)
    return _after_change(request, session)


@router.post("/staff/dispatch/service-reports/{work_order_id}/retry", name="dispatch_retry_report")
def retry_service_report(
    work_order_id: int, request: Request, session: SessionDep, principal: AdminPrincipal
) -> Response:
    """Try to make a service report again now (after its cause was put right)."""
    failure = retry_report(
        session,
        actor=principal,
        work_order_id=work_order_id,
        public_url=get_settings().resolved_public_url(),
    )
    number = session.get_one(WorkOrder, work_order_id).number
    if failure is None:
        message = f"The service report of {number} is made and queued for the ledger."
    else:
        message = f"The service report of {number} still could not be made: the reason is below."
    return see_other(request, "/staff/dispatch", flash=message)


def _after_change(request: Request, session: Session) -> Response:
    if not is_htmx(request):
        return RedirectResponse("/staff/dispatch", status_code=303)
    return render(request, BOARD_TEMPLATE, queue_context(session), block="queues")
