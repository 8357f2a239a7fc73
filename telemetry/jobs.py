"""Telemetry's background work: health, last-seen marks, retention, broker accounts."""

from __future__ import annotations

from procrastinate import Blueprint

from core.config import get_settings
from core.db import get_sessionmaker
from telemetry.devices import sync_local_broker
from telemetry.health.service import refresh_recent_health
from telemetry.housekeeping import apply_retention, mark_last_seen

blueprint = Blueprint()


@blueprint.periodic(cron="* * * * *")
@blueprint.task(queue="telemetry", queueing_lock="refresh_health")
def refresh_health_scores(timestamp: int) -> int:
    """Recompute the health of assets with recent data or active alerts; returns how many."""
    with get_sessionmaker().begin() as session:
        return refresh_recent_health(session)


@blueprint.periodic(cron="* * * * *")
@blueprint.task(queue="telemetry", queueing_lock="mark_last_seen")
def mark_devices_last_seen(timestamp: int) -> int:
    """Refresh devices.last_seen_at from the rollups; returns how many devices moved."""
    with get_sessionmaker().begin() as session:
        return mark_last_seen(session)


@blueprint.periodic(cron="17 3 * * *")
@blueprint.task(queue="housekeeping", queueing_lock="telemetry_retention")
def apply_telemetry_retention(timestamp: int) -> dict[str, int]:
    """Drop readings and rollups past retention, nightly."""
    with get_sessionmaker().begin() as session:
        return apply_retention(session, raw_days=get_settings().telemetry_retention_days)


@blueprint.periodic(cron="*/5 * * * *")
@blueprint.task(queue="telemetry", queueing_lock="sync_broker")
def sync_broker_accounts(timestamp: int) -> bool:
    """The safety net behind the immediate sync on provision/revoke."""
    with get_sessionmaker()() as session:
        return sync_local_broker(session, get_settings())
