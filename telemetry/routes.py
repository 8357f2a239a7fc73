"""JSON API of telemetry: devices, latest values, chart series, alerts and dead letters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status

from core.config import get_settings
from core.db import SessionDep, utcnow
from core.listing import PER_PAGE_CHOICES
from core.web.deps import CurrentPrincipal, StaffPrincipal
from telemetry.alerts.service import acknowledge_alert, clear_alert
from telemetry.devices import provision_device, revoke_device
from telemetry.queries import dead_letters as letters
from telemetry.queries.alerts import alert_list_params, alert_page
from telemetry.queries.devices import DeviceRow, device_overview
from telemetry.queries.latest import latest_values
from telemetry.queries.series import chart_series
from telemetry.rules.models import RuleKind, Severity
from telemetry.schemas import (
    AlertClear,
    AlertListRead,
    AlertPageRead,
    AlertRead,
    AssetLatestRead,
    DeadLetterCount,
    DeadLetterRead,
    DeadLettersRead,
    DeviceProvision,
    DeviceStatusRead,
    ProvisionedDeviceRead,
    SeriesRead,
)
from telemetry.web import BrokerSync, mqtt_topic

router = APIRouter(prefix="/api/telemetry", tags=["telemetry"])

_Responses = dict[int | str, dict[str, Any]]
_NOT_VISIBLE: _Responses = {404: {"description": "No such record visible to the caller"}}
_STAFF_ONLY: _Responses = {403: {"description": "Staff only"}}
AlertStatusChoice = Literal["open", "acknowledged", "cleared", "all"]
AlertSort = Literal["severity", "-severity", "opened", "-opened", "changed", "-changed"]
_WRONG_STATE: _Responses = {409: {"description": "Not possible in the alert's current state"}}


@router.get("/devices")
def list_devices(session: SessionDep, principal: CurrentPrincipal) -> list[DeviceRow]:
    """Visible assets with their device, last report, health score and open alert count."""
    return list(device_overview(session, principal=principal))


@router.post(
    "/devices",
    status_code=status.HTTP_201_CREATED,
    responses={**_STAFF_ONLY, **_NOT_VISIBLE, 409: {"description": "Asset has a device"}},
)
def provision(
    data: DeviceProvision,
    response: Response,
    session: SessionDep,
    principal: StaffPrincipal,
    sync: BrokerSync,
) -> ProvisionedDeviceRead:
    """Give an asset device credentials; the secret is in this response and nowhere else."""
    created = provision_device(session, actor=principal, asset_id=data.asset_id)
    body = ProvisionedDeviceRead(
        device_id=created.device.id,
        asset_id=created.device.asset_id,
        username=created.device.key,
        secret=created.secret,
        broker_url=get_settings().resolved_mqtt_url(),
        topic=mqtt_topic(created.device.key),
    )
    session.commit()
    sync(session)  # after the commit, so the broker accepts exactly what is stored
    response.headers["Cache-Control"] = "no-store"
    return body


@router.post("/devices/{device_id}/revoke", responses={**_STAFF_ONLY, **_NOT_VISIBLE})
def revoke(
    device_id: int, session: SessionDep, principal: StaffPrincipal, sync: BrokerSync
) -> DeviceStatusRead:
    """Cut a device off: the broker refuses its credentials from now on."""
    device = revoke_device(session, actor=principal, device_id=device_id)
    body = DeviceStatusRead.model_validate(device)
    session.commit()
    sync(session)
    return body


@router.get("/assets/{asset_id}/latest", responses=_NOT_VISIBLE)
def latest(asset_id: int, session: SessionDep, principal: CurrentPrincipal) -> AssetLatestRead:
    """The newest value of each metric of an asset."""
    return AssetLatestRead.model_validate(
        latest_values(session, principal=principal, asset_id=asset_id)
    )


@router.get("/assets/{asset_id}/series", responses=_NOT_VISIBLE)
def series(
    asset_id: int,
    session: SessionDep,
    principal: CurrentPrincipal,
    metric: Annotated[str, Query(description="Metric key of the product model")],
    start: Annotated[datetime | None, Query(description="Default: 24 h before end")] = None,
    end: Annotated[datetime | None, Query(description="Default: now")] = None,
) -> SeriesRead:
    """One metric over a window, at most ~500 buckets (1-minute rollup up to 2 days, then 1 h)."""
    end = end or utcnow()
    start = start or end - timedelta(hours=24)
    return SeriesRead.model_validate(
        chart_series(
            session, principal=principal, asset_id=asset_id, metric_key=metric, start=start, end=end
        )
    )


@router.get("/alerts")
def alerts(
    session: SessionDep,
    principal: CurrentPrincipal,
    q: Annotated[
        str, Query(max_length=200, description="Words in device key, serial, customer, message")
    ] = "",
    status: Annotated[
        AlertStatusChoice | None, Query(description="Default: the active ones (open, acknowledged)")
    ] = None,
    severity: Severity | None = None,
    kind: Annotated[RuleKind | None, Query(description="The kind of rule that raised it")] = None,
    customer: Annotated[int | None, Query(description="Organization owning the asset")] = None,
    metric: Annotated[str | None, Query(max_length=64, description="Metric key")] = None,
    asset_id: int | None = None,
    sort: Annotated[
        AlertSort, Query(description="severity: the worst first; a leading - reverses")
    ] = "severity",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(description="25, 50 or 100")] = PER_PAGE_CHOICES[0],
) -> AlertPageRead:
    """Alerts on the caller's visible assets (a customer's own), filtered, sorted and paged as
    the staff alerts list."""
    query = {
        "q": q,
        "status": status or "",
        "severity": severity or "",
        "kind": kind or "",
        "customer": "" if customer is None else str(customer),
        "metric": metric or "",
        "asset": "" if asset_id is None else str(asset_id),
        "sort": sort,
        "page": str(page),
        "per_page": str(per_page),
    }
    listing = alert_page(session, principal=principal, params=alert_list_params(query))
    return AlertPageRead(
        items=[AlertListRead.model_validate(row) for row in listing.rows],
        total=listing.total,
        page=listing.params.page,
        per_page=listing.params.per_page,
        pages=listing.pages,
    )


@router.post("/alerts/{alert_id}/acknowledge", responses={**_NOT_VISIBLE, **_WRONG_STATE})
def acknowledge(alert_id: int, session: SessionDep, principal: CurrentPrincipal) -> AlertRead:
    """Take ownership of an open alert (service staff)."""
    return AlertRead.model_validate(acknowledge_alert(session, actor=principal, alert_id=alert_id))


@router.post("/alerts/{alert_id}/clear", responses={**_NOT_VISIBLE, **_WRONG_STATE})
def clear(
    alert_id: int, data: AlertClear, session: SessionDep, principal: CurrentPrincipal
) -> AlertRead:
    """Close an active alert by hand, saying why (service staff)."""
    alert = clear_alert(session, actor=principal, alert_id=alert_id, reason=data.reason)
    return AlertRead.model_validate(alert)


@router.get("/dead-letters", responses=_STAFF_ONLY)
def dead_letters(
    session: SessionDep,
    principal: StaffPrincipal,
    device_key: str | None = None,
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeadLettersRead:
    """Messages ingest refused, newest first, with counts by reason and by device."""
    items = letters.dead_letters(session, device_key=device_key, reason=reason, limit=limit)
    by_reason = letters.counts_by_reason(session, device_key=device_key)
    by_device = letters.counts_by_device(session, reason=reason)
    return DeadLettersRead(
        items=[DeadLetterRead.model_validate(item) for item in items],
        by_reason=[DeadLetterCount(key=k, count=n) for k, n in by_reason.items()],
        by_device=[DeadLetterCount(key=k, count=n) for k, n in by_device.items()],
    )
