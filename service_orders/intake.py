"""Alert -> work order: the idempotent consumer of the alerts telemetry writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.config import get_settings
from core.db import utcnow
from crm.audit import UPDATE, record_change, snapshot
from service_orders.models import WorkOrder, WorkOrderSource, WorkOrderType
from service_orders.schemas import WorkOrderCreate
from service_orders.sla import before_failure
from service_orders.states import OPEN, UNASSIGNED, Status
from service_orders.tracking import WorkOrderAlert
from service_orders.workorders import AUDIT_FIELDS, ENTITY, insert_work_order, move, record_note
from telemetry.alerts.models import ACTIVE_STATUSES, Alert, AlertStatus

# consumers take turns; the unique keys, not this lock, guarantee one work order per alert
_INTAKE_LOCK = 724_311_004
SEVERITY_PRIORITY = {"critical": 1, "major": 2, "warning": 3}
_SEVERITY_RANK = {"warning": 1, "major": 2, "critical": 3}
LOWEST_PRIORITY = 4


@dataclass
class IntakeResult:
    """What one pass of the consumer did."""

    created: int = 0
    merged: int = 0  # repeated alerts folded into the fault's open work order
    escalated: int = 0
    cancelled: int = 0
    downgraded: int = 0


def consume_alerts(session: Session, *, limit: int = 500) -> IntakeResult:
    """Turn new alerts into work orders; follow escalations and clears of covered alerts."""
    session.execute(select(func.pg_advisory_xact_lock(_INTAKE_LOCK)))
    result = IntakeResult()
    _take_new_alerts(session, result, limit=limit)
    _follow_escalations(session, result, limit=limit)
    _follow_clears(session, result, limit=limit)
    return result


def work_order_type(alert: Alert) -> WorkOrderType:
    """Trend to failure is predictive, a critical threshold breach corrective, else preventive."""
    if alert.kind == "trend":
        return WorkOrderType.PREDICTIVE
    if alert.kind == "threshold" and alert.severity == "critical":
        return WorkOrderType.CORRECTIVE
    return WorkOrderType.PREVENTIVE


def _take_new_alerts(session: Session, result: IntakeResult, *, limit: int) -> None:
    covered = exists().where(WorkOrderAlert.alert_id == Alert.id)
    query = select(Alert).where(Alert.status.in_(ACTIVE_STATUSES), ~covered)
    for alert in session.scalars(query.order_by(Alert.id).limit(limit)).all():
        own = session.scalar(select(WorkOrder).where(WorkOrder.alert_id == alert.id))
        fault_order = own or _open_order_of_fault(session, alert)
        if fault_order is None:
            created = insert_work_order(session, actor=SYSTEM, data=_order_for(alert))
            if created is not None:
                _link(session, alert, created)
                result.created += 1
        elif _link(session, alert, fault_order) and fault_order.alert_id != alert.id:
            _raise_priority(session, fault_order, alert.severity)
            note = f"repeated alert #{alert.id} ({alert.severity}): {alert.message}"
            record_note(session, fault_order, note=note[:2000])
            result.merged += 1


def _follow_escalations(session: Session, result: IntakeResult, *, limit: int) -> None:
    query = (
        select(WorkOrderAlert, Alert.severity)
        .join(Alert, Alert.id == WorkOrderAlert.alert_id)
        .join(WorkOrder, WorkOrder.id == WorkOrderAlert.work_order_id)
        .where(
            Alert.status.in_(ACTIVE_STATUSES),
            WorkOrderAlert.severity != Alert.severity,
            WorkOrder.status.in_(OPEN),
        )
        .order_by(WorkOrderAlert.alert_id)
        .limit(limit)
    )
    for link, severity in session.execute(query).all():
        rose = _SEVERITY_RANK[severity] > _SEVERITY_RANK[link.severity]
        link.severity = severity
        if not rose:
            continue
        work_order = _lock(session, link.work_order_id)
        _raise_priority(session, work_order, severity)
        record_note(session, work_order, note=f"alert #{link.alert_id} escalated to {severity}")
        result.escalated += 1


def _follow_clears(session: Session, result: IntakeResult, *, limit: int) -> None:
    query = (
        select(WorkOrderAlert)
        .join(Alert, Alert.id == WorkOrderAlert.alert_id)
        .where(Alert.status == AlertStatus.CLEARED, WorkOrderAlert.clear_handled_at.is_(None))
        .order_by(WorkOrderAlert.alert_id)
        .limit(limit)
    )
    action = get_settings().service_orders_cleared_alert_action
    for link in session.scalars(query).all():
        link.clear_handled_at = utcnow()
        work_order = _lock(session, link.work_order_id)
        # only an order an alert opened, not yet taken by anyone, with all its alerts gone
        if work_order.alert_id is None or work_order.status not in UNASSIGNED:
            continue
        if _has_active_alert(session, work_order.id):
            continue
        note = f"alert #{link.alert_id} cleared before dispatch"
        if action == "cancel":
            move(session, work_order, Status.CANCELLED, actor=SYSTEM, note=note)
            result.cancelled += 1
        elif work_order.priority != LOWEST_PRIORITY:
            _set_priority(session, work_order, LOWEST_PRIORITY)
            record_note(session, work_order, note=f"{note}: priority {LOWEST_PRIORITY}")
            result.downgraded += 1


def _order_for(alert: Alert) -> WorkOrderCreate:
    due_by = None
    if alert.kind == "trend":
        margin = timedelta(hours=get_settings().service_orders_predictive_margin_hours)
        due_by = before_failure(alert.predicted_failure_at, now=utcnow(), margin=margin)
    return WorkOrderCreate(
        type=work_order_type(alert),
        source=WorkOrderSource.ALERT,
        asset_id=alert.asset_id,
        priority=SEVERITY_PRIORITY[alert.severity],
        # the rule's label ("Hydraulic pressure trending to its critical limit"); the
        # description keeps the whole message with the values and the predicted time
        title=alert.message.split(": ", 1)[0][:200],
        description=alert.message,
        alert_id=alert.id,
        due_by=due_by,
    )


def _open_order_of_fault(session: Session, alert: Alert) -> WorkOrder | None:
    """The open work order of an earlier alert on the same asset and rule, if any."""
    query = (
        select(WorkOrder)
        .join(WorkOrderAlert, WorkOrderAlert.work_order_id == WorkOrder.id)
        .join(Alert, Alert.id == WorkOrderAlert.alert_id)
        .where(
            Alert.asset_id == alert.asset_id,
            Alert.rule_id == alert.rule_id,
            WorkOrder.status.in_(OPEN),
        )
        .order_by(WorkOrder.id.desc())
        .limit(1)
        .with_for_update(of=WorkOrder)
    )
    return session.scalar(query)


def _link(session: Session, alert: Alert, work_order: WorkOrder) -> bool:
    """Record that the work order covers the alert; False if it already was."""
    linked = session.scalar(
        pg_insert(WorkOrderAlert)
        .values(alert_id=alert.id, work_order_id=work_order.id, severity=alert.severity)
        .on_conflict_do_nothing()
        .returning(WorkOrderAlert.alert_id)
    )
    return linked is not None


def _has_active_alert(session: Session, work_order_id: int) -> bool:
    query = select(WorkOrderAlert.alert_id).join(Alert, Alert.id == WorkOrderAlert.alert_id)
    query = query.where(
        WorkOrderAlert.work_order_id == work_order_id, Alert.status.in_(ACTIVE_STATUSES)
    )
    return session.scalar(query.limit(1)) is not None


def _lock(session: Session, work_order_id: int) -> WorkOrder:
    query = select(WorkOrder).where(WorkOrder.id == work_order_id).with_for_update()
    return session.scalars(query).one()


def _raise_priority(session: Session, work_order: WorkOrder, severity: str) -> None:
    priority = SEVERITY_PRIORITY[severity]
    if priority < work_order.priority:
        _set_priority(session, work_order, priority)


def _set_priority(session: Session, work_order: WorkOrder, priority: int) -> None:
    before = snapshot(work_order, AUDIT_FIELDS)
    work_order.priority = priority
    work_order.updated_at = utcnow()
    record_change(
        session, actor=SYSTEM, action=UPDATE, entity=ENTITY, entity_id=work_order.id,
        before=before, after=snapshot(work_order, AUDIT_FIELDS),
    )  # fmt: skip
    session.flush()
