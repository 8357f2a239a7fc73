"""The alert lifecycle people drive: acknowledge, clear by hand, list and history.

open -> acknowledged -> cleared, or open -> cleared; a cleared alert stays cleared (the
next breach opens a new one). Rules open, escalate and clear through alerts.writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Role
from core.db import utcnow
from core.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.audit import UPDATE, record_change, snapshot
from crm.models import Asset
from crm.service import asset_visibility, assets_worked_on_by_engineer
from telemetry.alerts.models import ACTIVE_STATUSES, Alert, AlertEvent, AlertStatus, ClearReason

ALERT_FIELDS = ("status", "severity", "acknowledged_by", "clear_reason")
MAX_PAGE = 500


def acknowledge_alert(session: Session, *, actor: Principal, alert_id: int) -> Alert:
    """Someone has seen an open alert and owns it; it stays active until it clears."""
    _require_service_staff(actor)
    alert = _visible_alert(session, actor=actor, alert_id=alert_id, lock=True)
    _require_staff_or_working_on(session, actor=actor, alert=alert)
    if alert.status != AlertStatus.OPEN:
        raise IllegalTransition(f"A {alert.status} alert cannot be acknowledged.")
    before = snapshot(alert, ALERT_FIELDS)
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = alert.updated_at = utcnow()
    alert.acknowledged_by = None if actor == SYSTEM else actor.user_id
    _record(session, actor=actor, alert=alert, action="acknowledged", before=before)
    return alert


def clear_alert(session: Session, *, actor: Principal, alert_id: int, reason: str) -> Alert:
    """Close an active alert by hand; the rule re-raises only after the condition clears."""
    if not reason.strip():
        raise InvalidInput("Say why the alert is cleared.", field="reason")
    _require_service_staff(actor)
    alert = _visible_alert(session, actor=actor, alert_id=alert_id, lock=True)
    _require_staff_or_working_on(session, actor=actor, alert=alert)
    if alert.status not in ACTIVE_STATUSES:
        raise IllegalTransition("The alert is cleared already.")
    _clear(session, actor=actor, alert=alert, why=ClearReason.MANUAL, note=reason.strip())
    return alert


def resolve_by_service(
    session: Session, *, actor: Principal, alert_ids: Sequence[int], note: str
) -> Sequence[Alert]:
    """Clear the still active ones of these alerts: a service visit fixed the fault.

    The caller (service_orders' completion) has checked that the actor did the visit.
    """
    query = select(Alert).where(Alert.id.in_(alert_ids), Alert.status.in_(ACTIVE_STATUSES))
    # the ingest may be escalating or clearing the same rows right now
    alerts = session.scalars(query.order_by(Alert.id).with_for_update()).all()
    for alert in alerts:
        _clear(session, actor=actor, alert=alert, why=ClearReason.SERVICE, note=note)
    return alerts


def list_alerts(
    session: Session,
    *,
    principal: Principal,
    status: AlertStatus | None = None,
    asset_id: int | None = None,
    limit: int = 100,
) -> Sequence[Alert]:
    """Alerts the principal may see, newest first; status "open" also means acknowledged."""
    query = select(Alert).join(Asset, Asset.id == Alert.asset_id).where(asset_visibility(principal))
    if status == AlertStatus.OPEN:
        query = query.where(Alert.status.in_(ACTIVE_STATUSES))
    elif status is not None:
        query = query.where(Alert.status == status)
    if asset_id is not None:
        query = query.where(Alert.asset_id == asset_id)
    query = query.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(min(limit, MAX_PAGE))
    return session.scalars(query).all()


def alert_history(session: Session, *, principal: Principal, asset_id: int) -> Sequence[AlertEvent]:
    """Every step of every alert of one asset, newest first."""
    visible = select(Asset.id).where(Asset.id == asset_id, asset_visibility(principal))
    if session.scalar(visible) is None:
        raise NotFound(f"No asset {asset_id}.", entity="assets")
    query = (
        select(AlertEvent)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(Alert.asset_id == asset_id)
        .order_by(AlertEvent.at.desc(), AlertEvent.id.desc())
        .limit(MAX_PAGE)
    )
    return session.scalars(query).all()


def _clear(
    session: Session, *, actor: Principal, alert: Alert, why: ClearReason, note: str
) -> None:
    before = snapshot(alert, ALERT_FIELDS)
    alert.status = AlertStatus.CLEARED
    alert.cleared_at = alert.updated_at = utcnow()
    alert.clear_reason = why
    _record(session, actor=actor, alert=alert, action="cleared", before=before, note=note)


def _visible_alert(session: Session, *, actor: Principal, alert_id: int, lock: bool) -> Alert:
    query = (
        select(Alert)
        .join(Asset, Asset.id == Alert.asset_id)
        .where(Alert.id == alert_id, asset_visibility(actor))
    )
    if lock:
        # the ingest may be escalating or clearing the same row right now
        query = query.with_for_update(of=Alert)
    alert = session.scalar(query)
    if alert is None:
        raise NotFound(f"No alert {alert_id}.", entity="alerts")
    return alert


def _record(
    session: Session,
    *,
    actor: Principal,
    alert: Alert,
    action: str,
    before: dict[str, object],
    note: str | None = None,
) -> None:
    actor_id = None if actor == SYSTEM else actor.user_id
    session.add(
        AlertEvent(
            alert_id=alert.id, action=action, severity=alert.severity, actor_user_id=actor_id
        )
    )
    session.flush()
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=Alert.__tablename__,
        entity_id=alert.id,
        before=before,
        after=snapshot(alert, ALERT_FIELDS) | ({"reason": note} if note else {}),
    )


def _require_staff_or_working_on(session: Session, *, actor: Principal, alert: Alert) -> None:
    """An engineer acknowledges or clears only alerts of a machine they have a job on: a
    clear can cancel the order the alert opened, so an offer alone is not enough."""
    if actor.is_staff:  # the system too
        return
    working_on = literal(alert.asset_id).in_(assets_worked_on_by_engineer(actor))
    if not session.scalar(select(working_on)):
        raise PermissionDenied(
            "Only dispatchers and the engineer working on this machine may acknowledge or"
            " clear its alerts."
        )


def _require_service_staff(actor: Principal) -> None:
    if not (actor.is_staff or actor.role == Role.ENGINEER):
        raise PermissionDenied("Only service staff may acknowledge or clear alerts.")
