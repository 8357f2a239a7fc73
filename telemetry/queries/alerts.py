"""The alerts list: alerts on visible assets, searched, filtered, sorted and paged, each with
its metric's label, asset, site, customer and the work order raised for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.labels import label
from core.listing import AnySelect, ListPage, ListParams, fetch_page, list_params
from crm.models import Asset, MetricDefinition, Organization, ProductModel, Site
from crm.service import asset_visibility
from telemetry.alerts.follow_ups import AlertFollowUp, follow_ups
from telemetry.alerts.models import ACTIVE_STATUSES, Alert, AlertStatus
from telemetry.models import Device
from telemetry.rules.models import RuleKind, Severity

ACTIVE = "active"
ALL = "all"
ALERT_STATUS_CHOICES = (*(s.value for s in AlertStatus), ALL)
"""The status filter: no value means the active ones (open or acknowledged)."""
SEVERITIES = tuple(s.value for s in Severity)
RULE_KINDS = tuple(k.value for k in RuleKind)
ALERT_SORTS = ("opened", "severity", "changed")
DEFAULT_ALERT_SORT = "severity"
ALERT_FILTERS: Mapping[str, Sequence[str] | None] = {
    "status": ALERT_STATUS_CHOICES,
    "severity": SEVERITIES,
    "kind": RULE_KINDS,
    "customer": None,
    "metric": None,
    "asset": None,
}


def alert_list_params(query: Mapping[str, str]) -> ListParams:
    """The list's parameters from a query string (the page's, a form's `back` field, the API's)."""
    return list_params(
        query, sorts=ALERT_SORTS, default_sort=DEFAULT_ALERT_SORT, filters=ALERT_FILTERS
    )


# ascending = the worst first, as "health" sorts the device list
_SEVERITY_ORDER = case(
    (Alert.severity == Severity.CRITICAL, 0), (Alert.severity == Severity.MAJOR, 1), else_=2
)


@dataclass(frozen=True, slots=True)
class AlertRow:
    """One alert as the list shows it."""

    id: int
    asset_id: int
    serial: str
    model: str
    site: str
    customer_id: int
    customer: str
    device_key: str
    metric_key: str
    metric_label: str | None
    kind: str
    severity: str
    status: str
    message: str
    value: float | None
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    cleared_at: datetime | None
    clear_reason: str | None
    predicted_failure_at: datetime | None
    work_order: AlertFollowUp | None

    @property
    def can_acknowledge(self) -> bool:
        return self.status == AlertStatus.OPEN

    @property
    def can_clear(self) -> bool:
        return self.status in ACTIVE_STATUSES


def alert_page(session: Session, *, principal: Principal, params: ListParams) -> ListPage[AlertRow]:
    """One page of the alerts the principal may see: searched (device key, serial, customer,
    message), filtered (status, active by default; severity, rule kind, customer, metric,
    asset) and sorted (opened, severity worst first, last change)."""
    query = _alerts_query(principal)
    if params.search:
        words = f"%{params.search}%"
        query = query.where(
            or_(
                Device.key.ilike(words),
                Asset.serial.ilike(words),
                Organization.name.ilike(words),
                Alert.message.ilike(words),
            )
        )
    query = _filtered(query, params.filters)
    columns: dict[str, Any] = {
        "opened": Alert.opened_at,
        "severity": _SEVERITY_ORDER,
        "changed": Alert.updated_at,
    }
    column = columns[params.sort]
    order = column.desc() if params.descending else column.asc()
    query = query.order_by(order, Alert.opened_at.desc(), Alert.id.desc())
    rows, total = fetch_page(session, query, params)
    found = follow_ups(session, [row.Alert.id for row in rows])
    return ListPage([_row(row, found.get(row.Alert.id)) for row in rows], total, params)


def metric_choices(session: Session, *, principal: Principal) -> list[tuple[str, str]]:
    """(key, label) of the metrics alerts were raised on, for a filter; one key named by
    several product models reads as all their labels."""
    labels = func.string_agg(func.distinct(MetricDefinition.label), " / ")
    rows = session.execute(
        select(Alert.metric_key, labels)
        .join(Asset, Asset.id == Alert.asset_id)
        .outerjoin(
            MetricDefinition,
            and_(
                MetricDefinition.product_model_id == Asset.product_model_id,
                MetricDefinition.key == Alert.metric_key,
            ),
        )
        .where(asset_visibility(principal))
        .group_by(Alert.metric_key)
        .order_by(func.min(MetricDefinition.label), Alert.metric_key)
    ).all()
    return [(key, name or label(key, "metric")) for key, name in rows]


def _alerts_query(principal: Principal) -> AnySelect:
    return (
        select(
            Alert,
            Asset.serial,
            ProductModel.name.label("model"),
            Site.name.label("site"),
            Organization.id.label("customer_id"),
            Organization.name.label("customer"),
            Device.key.label("device_key"),
            MetricDefinition.label.label("metric_label"),
        )
        .join(Asset, Asset.id == Alert.asset_id)
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .join(Site, Site.id == Asset.site_id)
        .join(Organization, Organization.id == Asset.owner_org_id)
        .join(Device, Device.id == Alert.device_id)
        .outerjoin(
            MetricDefinition,
            and_(
                MetricDefinition.product_model_id == Asset.product_model_id,
                MetricDefinition.key == Alert.metric_key,
            ),
        )
        .where(asset_visibility(principal))
    )


def _filtered(query: AnySelect, filters: Mapping[str, str]) -> AnySelect:
    status = filters.get("status", ACTIVE)
    if status == ACTIVE:
        query = query.where(Alert.status.in_(ACTIVE_STATUSES))
    elif status != ALL:
        query = query.where(Alert.status == status)
    if severity := filters.get("severity"):
        query = query.where(Alert.severity == severity)
    if kind := filters.get("kind"):
        query = query.where(Alert.kind == kind)
    if metric := filters.get("metric"):
        query = query.where(Alert.metric_key == metric)
    for name, column in (("customer", Organization.id), ("asset", Asset.id)):
        value = filters.get(name, "")
        if value.isdigit():
            query = query.where(column == int(value))
    return query


def _row(row: Any, work_order: AlertFollowUp | None) -> AlertRow:
    alert: Alert = row.Alert
    return AlertRow(
        id=alert.id,
        asset_id=alert.asset_id,
        serial=row.serial,
        model=row.model,
        site=row.site,
        customer_id=row.customer_id,
        customer=row.customer,
        device_key=row.device_key,
        metric_key=alert.metric_key,
        metric_label=row.metric_label,
        kind=alert.kind,
        severity=alert.severity,
        status=alert.status,
        message=alert.message,
        value=alert.value,
        opened_at=alert.opened_at,
        updated_at=alert.updated_at,
        acknowledged_at=alert.acknowledged_at,
        cleared_at=alert.cleared_at,
        clear_reason=alert.clear_reason,
        predicted_failure_at=alert.predicted_failure_at,
        work_order=work_order,
    )
