"""The staff alerts list: every alert of the fleet, searched, filtered, sorted and paged, with
acknowledge and clear in place (htmx) or by a plain form post that comes back to the same list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from core.auth.principal import Principal
from core.db import SessionDep
from core.listing import ListParams
from core.web.deps import StaffPrincipal
from core.web.flash import see_other
from core.web.templating import is_htmx, render
from telemetry.alerts.models import Alert
from telemetry.queries.alerts import alert_list_params, alert_page, metric_choices
from telemetry.queries.devices import customer_choices

router = APIRouter()

LIST_PATH = "/staff/alerts"
_TEMPLATE = "telemetry/alerts.html"
_BLOCK = "alert_list"


@dataclass(frozen=True, slots=True)
class ClearRefused:
    """A clear the service refused, shown next to that alert's reason field, input kept."""

    alert_id: int
    message: str
    reason: str


@router.get(LIST_PATH, name="telemetry_alerts")
def alerts_page(request: Request, session: SessionDep, principal: StaffPrincipal) -> Response:
    params = alert_list_params(request.query_params)
    return render(request, _TEMPLATE, _context(session, principal, params))


def back_to_list(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    back: str,
    alert: Alert,
    done: str,
) -> Response:
    """After acknowledge or clear from the list: the list again with the same query (in place
    for htmx, else a redirect with a one-time message)."""
    params = alert_list_params(QueryParams(back.lstrip("?")))
    if not is_htmx(request):
        session.commit()  # the redirected GET must see the change
        return see_other(request, LIST_PATH + params.query_string(), flash=done)
    context = _context(session, principal, params) | {"notice": done, "changed_id": alert.id}
    return render(request, _TEMPLATE, context, block=_BLOCK)


def refused_on_list(
    request: Request, session: Session, principal: Principal, *, back: str, refused: ClearRefused
) -> Response:
    """The list with the refusal next to the alert's reason field (422)."""
    params = alert_list_params(QueryParams(back.lstrip("?")))
    context = _context(session, principal, params) | {"refused": refused}
    block = _BLOCK if is_htmx(request) else None
    return render(request, _TEMPLATE, context, block=block, status_code=422)


def _context(session: Session, principal: Principal, params: ListParams) -> dict[str, Any]:
    return {
        "listing": alert_page(session, principal=principal, params=params),
        "customers": customer_choices(session, principal=principal),
        "metrics": metric_choices(session, principal=principal),
        "back": params.query_string(),
        "list_path": LIST_PATH,
    }
