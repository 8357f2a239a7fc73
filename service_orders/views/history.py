"""The engineer's job history: finished jobs, newest first, with their signed reports."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.db import SessionDep
from core.labels import label
from core.listing import list_params
from core.web.templating import render
from service_orders.engineers import engineer_for_user
from service_orders.job_history import HISTORY_FILTERS, HISTORY_SORTS, job_history
from service_orders.web import EngineerPrincipal
from service_orders.workorders import OUTCOMES

router = APIRouter()

HISTORY_TEMPLATE = "service_orders/engineer_history.html"


@router.get("/engineer/history", name="engineer_history")
def history(request: Request, session: SessionDep, principal: EngineerPrincipal) -> Response:
    """Completed and closed jobs, searchable by number, site and serial, in pages."""
    params = list_params(
        request.query_params,
        sorts=HISTORY_SORTS,
        default_sort="-completed",
        filters=HISTORY_FILTERS,
    )
    engineer = engineer_for_user(session, user_id=principal.user_id)
    if engineer is None:
        return render(request, HISTORY_TEMPLATE, {"not_set_up": True})
    context = {
        "listing": job_history(session, engineer_id=engineer.id, params=params),
        "outcome_options": [(o, label(o, "work_order_outcome")) for o in OUTCOMES],
    }
    return render(request, HISTORY_TEMPLATE, context)
