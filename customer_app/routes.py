"""JSON API of the customer app: chart data of the device page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from core.db import SessionDep, utcnow
from customer_app.devices import DEFAULT_WINDOW, WINDOWS, health_history, window_of
from customer_app.schemas import HealthHistoryRead
from customer_app.web import CustomerPrincipal
from telemetry.queries.series import chart_series
from telemetry.schemas import SeriesRead

router = APIRouter(prefix="/api/customer", tags=["customer"])

_NOT_VISIBLE: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such device of the caller's organisation"}
}
Window = Annotated[str, Query(description=f"One of {', '.join(WINDOWS)}")]


@router.get("/devices/{asset_id}/series", responses=_NOT_VISIBLE)
def device_series(
    asset_id: int,
    session: SessionDep,
    principal: CustomerPrincipal,
    metric: Annotated[str, Query(description="Metric key of the product model")],
    window: Window = DEFAULT_WINDOW,
) -> SeriesRead:
    """One metric over a window ending now, from the 1-minute (≤ 2 days) or 1-hour rollup."""
    end = utcnow()
    series = chart_series(
        session,
        principal=principal,
        asset_id=asset_id,
        metric_key=metric,
        start=end - window_of(window),
        end=end,
    )
    return SeriesRead.model_validate(series)


@router.get("/devices/{asset_id}/health", responses=_NOT_VISIBLE)
def device_health(
    asset_id: int, session: SessionDep, principal: CustomerPrincipal, window: Window = "30d"
) -> HealthHistoryRead:
    """The device's health score over a window ending now, at most ~500 buckets."""
    history = health_history(
        session, principal=principal, asset_id=asset_id, window=window_of(window)
    )
    return HealthHistoryRead.model_validate(history)
