"""The device page of one asset: live values (SSE), charts, health, alerts and revoke."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from core.auth.principal import Principal
from core.db import SessionDep
from core.errors import InvalidInput, PermissionDenied
from core.labels import label
from core.web.deps import StaffPrincipal, get_principal
from core.web.errors import LoginRequired
from core.web.templating import is_htmx, render
from crm.models import Asset, MetricDefinition
from crm.service import get_asset
from telemetry.alerts.models import Alert, AlertStatus
from telemetry.alerts.service import acknowledge_alert, clear_alert, list_alerts
from telemetry.devices import revoke_device
from telemetry.health.service import current_health
from telemetry.queries.devices import device_overview
from telemetry.queries.latest import AssetLatest, latest_values
from telemetry.queries.series import CHART_WINDOWS, DEFAULT_CHART_WINDOW
from telemetry.views.alerts import ClearRefused, back_to_list, refused_on_list
from telemetry.web import BrokerSync, OpenSession, SessionOpener, mqtt_topic

router = APIRouter()

_TEMPLATE = "telemetry/asset.html"
LIVE_INTERVAL_SECONDS = 2.0
# A stream ends after ~5 minutes; EventSource reconnects, which re-checks the login.
LIVE_TICKS = 150
RECENT_CLEARED = 10
# the alerts list's query string: the action returns to that list instead of the asset page
_BackToList = Annotated[str | None, Form(max_length=2000)]


@router.get("/staff/assets/{asset_id}", name="telemetry_asset")
def asset_page(
    asset_id: int, request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    return render(request, _TEMPLATE, _page_context(session, principal, asset_id))


@router.post("/staff/devices/{device_id}/revoke", name="telemetry_revoke")
def revoke(
    device_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    sync: BrokerSync,
) -> Response:
    device = revoke_device(session, actor=principal, device_id=device_id)
    session.commit()
    sync(session)  # after the commit: the broker refuses the device from this moment
    return _after_change(request, session, principal, device.asset_id, block="device_summary")


@router.post("/staff/alerts/{alert_id}/acknowledge", name="telemetry_acknowledge")
def acknowledge(
    alert_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    back: _BackToList = None,
) -> Response:
    alert = acknowledge_alert(session, actor=principal, alert_id=alert_id)
    if back is not None:
        done = f"Acknowledged: {_what(session, alert)}."
        return back_to_list(request, session, principal, back=back, alert=alert, done=done)
    return _after_change(request, session, principal, alert.asset_id, block="alerts")


@router.post("/staff/alerts/{alert_id}/clear", name="telemetry_clear")
def clear(
    alert_id: int,
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    reason: Annotated[str, Form(max_length=500)] = "",
    back: _BackToList = None,
) -> Response:
    if back is None:
        alert = clear_alert(session, actor=principal, alert_id=alert_id, reason=reason)
        return _after_change(request, session, principal, alert.asset_id, block="alerts")
    try:
        with session.begin_nested():
            alert = clear_alert(session, actor=principal, alert_id=alert_id, reason=reason)
    except InvalidInput as exc:
        refused = ClearRefused(alert_id, exc.message, reason)
        return refused_on_list(request, session, principal, back=back, refused=refused)
    done = f"Cleared: {_what(session, alert)}."
    return back_to_list(request, session, principal, back=back, alert=alert, done=done)


@router.get("/staff/assets/{asset_id}/live", name="telemetry_live")
async def live_values(asset_id: int, request: Request, sessions: SessionOpener) -> Response:
    """Server-sent events: the asset's latest values every ~2 s while the page is open."""
    # No request-scoped session here: it would hold a connection for the whole stream.
    principal = await run_in_threadpool(_staff_of, request, sessions)
    first = await run_in_threadpool(_latest, sessions, principal, asset_id)  # 404 before streaming

    async def events() -> AsyncIterator[str]:
        yield f"retry: 5000\n\n{_event(first)}"
        for _ in range(LIVE_TICKS - 1):
            await asyncio.sleep(LIVE_INTERVAL_SECONDS)
            if await request.is_disconnected():
                return
            yield _event(await run_in_threadpool(_latest, sessions, principal, asset_id))

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _page_context(session: Session, principal: Principal, asset_id: int) -> dict[str, Any]:
    asset = get_asset(session, principal=principal, asset_id=asset_id)
    summary = device_overview(session, principal=principal, asset_id=asset.id)[0]
    health = current_health(session, principal=principal, asset_ids=[asset.id])
    active = list_alerts(session, principal=principal, status=AlertStatus.OPEN, asset_id=asset.id)
    cleared = list_alerts(
        session,
        principal=principal,
        status=AlertStatus.CLEARED,
        asset_id=asset.id,
        limit=RECENT_CLEARED,
    )
    latest = latest_values(session, principal=principal, asset_id=asset.id)
    return {
        "asset": asset,
        "summary": summary,
        "topic": mqtt_topic(summary.device_key) if summary.device_key else None,
        "latest": latest,
        "metric_names": {v.key: v.label for v in latest.values},
        "health": health[0] if health else None,
        "active_alerts": active,
        "cleared_alerts": cleared,
        "windows": CHART_WINDOWS,
        "default_window": DEFAULT_CHART_WINDOW,
    }


def _after_change(
    request: Request, session: Session, principal: Principal, asset_id: int, *, block: str
) -> Response:
    # htmx swaps the changed part in place; a plain form post goes back to the page.
    if not is_htmx(request):
        return RedirectResponse(f"/staff/assets/{asset_id}", status_code=303)
    return render(request, _TEMPLATE, _page_context(session, principal, asset_id), block=block)


def _what(session: Session, alert: Alert) -> str:
    """ "Hydraulic pressure on SN-1": the alert in the words of the list."""
    asset = session.get(Asset, alert.asset_id)
    metric = session.scalar(
        select(MetricDefinition.label).where(
            MetricDefinition.product_model_id == (asset.product_model_id if asset else None),
            MetricDefinition.key == alert.metric_key,
        )
    )
    name = metric or label(alert.metric_key, "metric")
    return f"{name} on {asset.serial}" if asset else name


def _staff_of(request: Request, sessions: OpenSession) -> Principal:
    with sessions() as session:
        principal = get_principal(request, session)
        session.commit()  # keeps the session's last-seen touch
    if principal is None:
        raise LoginRequired
    if not principal.is_staff:
        raise PermissionDenied("This page is for administrators and dispatchers only.")
    return principal


def _latest(sessions: OpenSession, principal: Principal, asset_id: int) -> AssetLatest:
    with sessions() as session:
        return latest_values(session, principal=principal, asset_id=asset_id)


def _event(snapshot: AssetLatest) -> str:
    data = {
        "last_seen": snapshot.last_seen.isoformat() if snapshot.last_seen else None,
        "values": [
            {
                "key": v.key,
                "value": v.value,
                "unit": v.unit,
                "zone": v.zone,
                "ts": v.ts.isoformat() if v.ts else None,
            }
            for v in snapshot.values
        ],
    }
    return f"event: latest\ndata: {json.dumps(data)}\n\n"
