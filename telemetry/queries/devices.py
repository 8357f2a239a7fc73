"""The device list: each visible asset with its device, last seen, health and open alerts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from core.auth.principal import Principal
from core.listing import AnySelect, ListPage, ListParams, fetch_page
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


HEALTH_BANDS = ("good", "fair", "poor", "unknown")
DEVICE_STATES = ("active", "none", "revoked")
DEVICE_SORTS = ("serial", "customer", "site", "health", "alerts")


def device_overview(
    session: Session, *, principal: Principal, asset_id: int | None = None, limit: int = 500
) -> Sequence[DeviceRow]:
    """Visible assets (or one) with their newest device (active first), health, open alerts."""
    query, owner = _overview_query(principal)
    query = query.order_by(owner.name, Site.name, Asset.serial).limit(limit)
    if asset_id is not None:
        query = query.where(Asset.id == asset_id)
    return _rows(session, session.execute(query).all())


def device_page(
    session: Session, *, principal: Principal, params: ListParams
) -> ListPage[DeviceRow]:
    """One page of the device list, searched (serial, model, site, customer), filtered by
    health band, device state, open alerts and customer, and sorted."""
    query, owner = _overview_query(principal)
    if params.search:
        words = f"%{params.search}%"
        query = query.where(
            or_(
                Asset.serial.ilike(words),
                ProductModel.name.ilike(words),
                Site.name.ilike(words),
                owner.name.ilike(words),
                Device.key.ilike(words),
            )
        )
    query = _filtered(query, params.filters, owner)
    columns = {
        "serial": Asset.serial,
        "customer": owner.name,
        "site": Site.name,
        "health": AssetHealth.score,
        "alerts": query.selected_columns.open_alerts,
    }
    column = columns[params.sort]
    order = column.desc().nulls_last() if params.descending else column.asc().nulls_last()
    query = query.order_by(order, Asset.serial, Asset.id)
    rows, total = fetch_page(session, query, params)
    return ListPage(_rows(session, rows), total, params)


def _filtered(query: AnySelect, filters: Mapping[str, str], owner: Any) -> AnySelect:
    band = filters.get("health")
    if band == "good":
        query = query.where(AssetHealth.score >= 80)
    elif band == "fair":
        query = query.where(AssetHealth.score >= 50, AssetHealth.score < 80)
    elif band == "poor":
        query = query.where(AssetHealth.score < 50)
    elif band == "unknown":
        query = query.where(AssetHealth.score.is_(None))
    state = filters.get("device")
    if state == "none":
        query = query.where(Device.id.is_(None))
    elif state in ("active", "revoked"):
        query = query.where(Device.status == state)
    if filters.get("alerts") == "open":
        query = query.where(query.selected_columns.open_alerts > 0)
    customer = filters.get("customer", "")
    if customer.isdigit():
        query = query.where(owner.id == int(customer))
    return query


def _overview_query(principal: Principal) -> tuple[AnySelect, Any]:
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
            Asset.id.label("asset_id"),
            Asset.serial,
            ProductModel.name.label("model"),
            Site.name.label("site"),
            owner.name.label("owner"),
            Device.id.label("device_id"),
            Device.key,
            Device.status.label("device_status"),
            AssetHealth.score,
            func.coalesce(open_alerts.c.n, 0).label("open_alerts"),
        )
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .join(Site, Site.id == Asset.site_id)
        .join(owner, owner.id == Asset.owner_org_id)
        .outerjoin(Device, Device.id == newest_device)
        .outerjoin(AssetHealth, AssetHealth.asset_id == Asset.id)
        .outerjoin(open_alerts, open_alerts.c.asset_id == Asset.id)
        .where(asset_visibility(principal))
    )
    return query, owner


def _rows(session: Session, rows: Sequence[Any]) -> list[DeviceRow]:
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


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """The counts above the device list, over everything the principal may see."""

    assets: int
    active_devices: int
    open_alerts: int
    with_alerts: int


def fleet_summary(session: Session, *, principal: Principal) -> FleetSummary:
    """How many assets, active devices and open alerts the principal's fleet has."""
    query, _ = _overview_query(principal)
    rows = query.subquery()
    status, alerts = rows.c.device_status, rows.c.open_alerts
    assets, active, open_alerts, with_alerts = session.execute(
        select(
            func.count(),
            func.count().filter(status == DeviceStatus.ACTIVE),
            func.coalesce(func.sum(alerts), 0),
            func.count().filter(alerts > 0),
        ).select_from(rows)
    ).one()
    return FleetSummary(int(assets), int(active), int(open_alerts), int(with_alerts))


def customer_choices(session: Session, *, principal: Principal) -> list[tuple[str, str]]:
    """(id, name) of the organizations owning assets the principal sees, for a filter."""
    rows = session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.id.in_(select(Asset.owner_org_id).where(asset_visibility(principal))))
        .order_by(Organization.name)
    ).all()
    return [(str(org_id), name) for org_id, name in rows]
