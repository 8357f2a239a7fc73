"""Latest values of an asset's metrics and when its devices were last heard from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from crm.models import MetricDefinition
from crm.service import get_asset
from telemetry.queries._scope import asset_device_ids, asset_metrics

# The newest 1-minute bucket of each (device, position) through the primary key, then the
# newest of the asset's devices: a handful of index probes, whatever the history length.
_LATEST = text(
    """
    SELECT DISTINCT ON (r.position) r.position, r.last, r.last_ts
    FROM unnest(CAST(:device_ids AS int[])) AS d(id)
    CROSS JOIN unnest(CAST(:positions AS smallint[])) AS p(position)
    CROSS JOIN LATERAL (
        SELECT m.position, m.last, m.last_ts FROM readings_1m m
        WHERE m.device_id = d.id AND m.position = p.position
        ORDER BY m.bucket DESC LIMIT 1
    ) r
    ORDER BY r.position, r.last_ts DESC
    """
)

# Readings are ordered by (device_id, ts) in every chunk: ChunkAppend stops at the first hit.
_LAST_SEEN = text(
    """
    SELECT d.id, (SELECT r.ts FROM readings r WHERE r.device_id = d.id
                  ORDER BY r.ts DESC LIMIT 1)
    FROM unnest(CAST(:device_ids AS int[])) AS d(id)
    """
)


@dataclass(frozen=True, slots=True)
class LatestValue:
    """The newest value of one metric with its unit, limits zone and time."""

    key: str
    label: str
    unit: str
    value: float | None
    ts: datetime | None
    zone: str


@dataclass(frozen=True, slots=True)
class AssetLatest:
    """An asset's newest value per metric and when any of its devices last reported."""

    asset_id: int
    serial: str
    last_seen: datetime | None
    values: list[LatestValue]


def latest_values(session: Session, *, principal: Principal, asset_id: int) -> AssetLatest:
    """Newest value of each metric of a visible asset (NotFound for another tenant's)."""
    asset = get_asset(session, principal=principal, asset_id=asset_id)
    metrics = asset_metrics(session, asset=asset)
    device_ids = asset_device_ids(session, asset_id=asset.id)
    newest: dict[int, tuple[float, datetime]] = {}
    if device_ids and metrics:
        rows = session.execute(
            _LATEST,
            {"device_ids": device_ids, "positions": [m.position for m in metrics]},
        )
        newest = {position: (value, ts) for position, value, ts in rows}
    values = [
        LatestValue(
            key=m.key,
            label=m.label,
            unit=m.unit,
            value=newest[m.position][0] if m.position in newest else None,
            ts=newest[m.position][1] if m.position in newest else None,
            zone=metric_zone(m, newest[m.position][0]) if m.position in newest else "none",
        )
        for m in metrics
    ]
    seen = last_seen(session, device_ids=device_ids)
    return AssetLatest(asset.id, asset.serial, max(seen.values(), default=None), values)


def last_seen(session: Session, *, device_ids: list[int]) -> dict[int, datetime]:
    """When each device's newest stored reading was taken (devices never heard are left out)."""
    if not device_ids:
        return {}
    rows = session.execute(_LAST_SEEN, {"device_ids": device_ids})
    return {device_id: ts for device_id, ts in rows if ts is not None}


def metric_zone(metric: MetricDefinition, value: float) -> str:
    """ "critical", "warning" or "normal" against the product model's limits."""
    if _outside(value, metric.crit_low, metric.crit_high):
        return "critical"
    if _outside(value, metric.warn_low, metric.warn_high):
        return "warning"
    return "normal"


def _outside(value: float, low: float | None, high: float | None) -> bool:
    return (low is not None and value < low) or (high is not None and value > high)
