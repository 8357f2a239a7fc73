"""The device list: each visible asset with its device, last seen, health and open alerts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from core.auth.principal import Principal
from crm.models import Asset, Organization, ProductModel, Site
from crm.service import asset_visibility
from telemetry.alerts.models import ACTIVE_STATUSES, Alert
from telemetry.health.models import AssetHealth
from telemetry.models import Device, DeviceStatus
from telemetry.queries.latest import last_seen


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One asset of the installed base as the device list shows it."""

    asset_id: int
    serial: str
    model: str
    site: str
    owner: str
    device_id: int | None
    device_key: str | None
    device_status: str | None
    last_seen: datetime | None
    health_score: int | None
    open_alerts: int

    @property
    def health_band(self) -> str:
        """ "good", "fair", "poor" or "unknown": the colour of the score."""
        if self.health_score is None:
            return "unknown"
        return "good" if self.health_score >= 80 else "fair" if self.health_score >= 50 else "poor"


def device_overview(
    session: Session, *, principal: Principal, asset_id: int | None = None, limit: int = 500
) -> Sequence[DeviceRow]:
    """Visible assets (or one) with their newest device (active first), health, open alerts."""
    owner = aliased(Organization)
    newest_device = (
        select(Device.id)
        .where(Device.asset_id == Asset.id)
        .order_by((Device.status == DeviceStatus.ACTIVE).desc(), Device.created_at.desc())
        .limit(1)
        .correlate(Asset)
        .scalar_subquery()
    )
    open_alerts = (
        select(Alert.asset_id, func.count().label("n"))
        .where(Alert.status.in_(ACTIVE_STATUSES))
        .group_by(Alert.asset_id)
        .subquery()
    )
    query = (
        select(
            Asset.id,
            Asset.serial,
            ProductModel.name,
            Site.name,
            owner.name,
            Device.id,
            Device.key,
            Device.status,
            AssetHealth.score,
            func.coalesce(open_alerts.c.n, 0),
        )
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .join(Site, Site.id == Asset.site_id)
        .join(owner, owner.id == Asset.owner_org_id)
        .outerjoin(Device, Device.id == newest_device)
        .outerjoin(AssetHealth, AssetHealth.asset_id == Asset.id)
        .outerjoin(open_alerts, open_alerts.c.asset_id == Asset.id)
        .where(asset_visibility(principal))
        .order_by(owner.name, Site.name, Asset.serial)
        .limit(limit)
    )
    if asset_id is not None:
        query = query.where(Asset.id == asset_id)
    rows = session.execute(query).all()
    seen = last_seen(session, device_ids=[row[5] for row in rows if row[5] is not None])
    return [
        DeviceRow(
            asset_id=asset_id,
            serial=serial,
            model=model,
            site=site,
            owner=owner_name,
            device_id=device_id,
            device_key=key,
            device_status=status,
            last_seen=seen.get(device_id) if device_id is not None else None,
            health_score=score,
            open_alerts=int(alerts),
        )
        for (
            asset_id,
            serial,
            model,
            site,
            owner_name,
            device_id,
            key,
            status,
            score,
            alerts,
        ) in rows
    ]
