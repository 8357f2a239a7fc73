"""What a customer sees of their equipment: sites with devices, one device, health history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import utcnow
from core.errors import InvalidInput
from crm.service import get_asset
from telemetry.alerts.models import Alert, AlertStatus
from telemetry.alerts.service import list_alerts
from telemetry.health.models import AssetHealth, HealthScore
from telemetry.health.service import current_health
from telemetry.queries.devices import DeviceRow, device_overview
from telemetry.queries.latest import AssetLatest, latest_values
from telemetry.queries.series import CHART_WINDOWS, DEFAULT_CHART_WINDOW, choose_buckets

# the chart windows a customer picks from, by the name used in URLs
WINDOWS: dict[str, timedelta] = {w.name: w.length for w in CHART_WINDOWS}
DEFAULT_WINDOW = DEFAULT_CHART_WINDOW
LANDING_REASONS = 2


@dataclass(frozen=True, slots=True)
class DeviceCard:
    """A device on the landing page: its row and what takes the most points off its health."""

    row: DeviceRow
    reasons: list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class SiteDevices:
    """One of the customer's sites with the devices installed there."""

    site: str
    devices: list[DeviceCard]


def top_contributors(
    health: AssetHealth | None, limit: int | None = None
) -> list[dict[str, object]]:
    """What takes points off a health score, the biggest first."""
    if health is None:
        return []
    lost = [c for c in health.contributors if c.get("penalty")]
    lost.sort(key=lambda c: float(c.get("penalty") or 0), reverse=True)
    return lost[:limit]


@dataclass(frozen=True, slots=True)
class DeviceDetail:
    """Everything the device page shows above the charts."""

    summary: DeviceRow
    latest: AssetLatest
    health: AssetHealth | None
    alerts: Sequence[Alert]

    @property
    def contributors(self) -> list[dict[str, object]]:
        return top_contributors(self.health)


@dataclass(frozen=True, slots=True)
class HealthHistory:
    """Health scores over a window: bucket starts (epoch seconds) with the average and low."""

    start: datetime
    end: datetime
    bucket_seconds: int
    t: list[float]
    avg: list[float]
    low: list[float]


def window_of(name: str) -> timedelta:
    """The length of a named chart window (1h, 6h, 24h, 7d, 30d, 90d)."""
    try:
        return WINDOWS[name]
    except KeyError:
        raise InvalidInput(
            f"Unknown window {name!r}; choose one of {', '.join(WINDOWS)}.", field="window"
        ) from None


def my_sites(session: Session, *, principal: Principal) -> list[SiteDevices]:
    """The principal's visible devices grouped by site (sites and serials in name order)."""
    rows = device_overview(session, principal=principal)
    healths = current_health(session, principal=principal, asset_ids=[r.asset_id for r in rows])
    by_asset = {health.asset_id: health for health in healths}
    sites: dict[str, list[DeviceCard]] = {}
    for row in rows:
        reasons = top_contributors(by_asset.get(row.asset_id), LANDING_REASONS)
        sites.setdefault(row.site, []).append(DeviceCard(row, reasons))
    return [SiteDevices(site, cards) for site, cards in sites.items()]


def device_detail(session: Session, *, principal: Principal, asset_id: int) -> DeviceDetail:
    """One visible device: summary, latest values, current health and active alerts."""
    asset = get_asset(session, principal=principal, asset_id=asset_id)
    health = current_health(session, principal=principal, asset_ids=[asset.id])
    return DeviceDetail(
        summary=device_overview(session, principal=principal, asset_id=asset.id)[0],
        latest=latest_values(session, principal=principal, asset_id=asset.id),
        health=health[0] if health else None,
        alerts=list_alerts(
            session, principal=principal, status=AlertStatus.OPEN, asset_id=asset.id
        ),
    )


def health_history(
    session: Session,
    *,
    principal: Principal,
    asset_id: int,
    window: timedelta,
    now: datetime | None = None,
) -> HealthHistory:
    """A visible asset's health over a window, merged into at most ~500 buckets."""
    asset = get_asset(session, principal=principal, asset_id=asset_id)
    end = now or utcnow()
    start = end - window
    width = choose_buckets(start, end).width
    slot: ColumnElement[datetime] = func.time_bucket(width, HealthScore.ts).label("slot")
    rows = session.execute(
        select(slot, func.avg(HealthScore.score), func.min(HealthScore.score))
        .where(HealthScore.asset_id == asset.id, HealthScore.ts >= start, HealthScore.ts < end)
        .group_by(slot)
        .order_by(slot)
    ).all()
    return HealthHistory(
        start=start,
        end=end,
        bucket_seconds=int(width.total_seconds()),
        t=[row[0].timestamp() for row in rows],
        avg=[round(float(row[1]), 1) for row in rows],
        low=[float(row[2]) for row in rows],
    )
