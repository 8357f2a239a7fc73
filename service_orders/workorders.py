"""Work orders: creation with SLAs, the audited state machine, visits, completion, overdue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Role
from core.db import utcnow
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.audit import CREATE, UPDATE, record_change, snapshot
from crm.models import Asset, ProductModel
from crm.service import asset_visibility
from service_orders.checklists import default_checklist
from service_orders.models import (
    DispatchOffer,
    Engineer,
    OfferStatus,
    PmPlan,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderSource,
    WorkOrderType,
)
from service_orders.schemas import ChecklistItem, PartUsed, WorkOrderCreate
from service_orders.signature import normalised_signature
from service_orders.sla import sla_dates
from service_orders.states import BY_ENGINEER, HELD, Status, check_transition
from service_orders.tracking import PmProgress, WorkOrderAlert
from telemetry.alerts.models import Alert
from telemetry.alerts.service import resolve_by_service
from telemetry.health.service import record_service, refresh_health

ENTITY = "work_order"
AUDIT_FIELDS = (
    "number", "type", "source", "asset_id", "alert_id", "pm_plan_id", "pm_due_on", "priority",
    "status", "engineer_id", "respond_by", "resolve_by", "due_by", "overdue_since",
    "on_site_at", "completed_at", "time_on_site_s", "outcome", "signed_by",
)  # fmt: skip
OUTCOMES = ("fixed", "partially_fixed", "not_fixed")
# statuses in which the engineer records checklist, parts and notes (and may fall behind)
VISIT_STATUSES = HELD | {Status.ON_HOLD}


def insert_work_order(
    session: Session, *, actor: Principal, data: WorkOrderCreate, now: datetime | None = None
) -> WorkOrder | None:
    """A new work order, or None when its alert or PM occurrence already has one."""
    asset = session.get(Asset, data.asset_id)
    if asset is None:
        raise NotFound(f"No asset {data.asset_id}.", entity="assets")
    family = session.scalar(
        select(ProductModel.family).where(ProductModel.id == asset.product_model_id)
    )
    now = now or utcnow()
    start = datetime.combine(data.pm_due_on, time(), UTC) if data.pm_due_on else now
    respond_by, resolve_by = sla_dates(
        session, owner_org_id=asset.owner_org_id, priority=data.priority, start=start,
        due_by=data.due_by,
    )  # fmt: skip
    work_order_id = int(session.scalar(select(func.nextval("work_orders_id_seq"))) or 0)
    values: dict[str, Any] = data.model_dump(exclude={"checklist"})
    values |= {
        "id": work_order_id,
        "number": f"WO-{work_order_id:06d}",
        "status": Status.NEW.value,
        "required_family": family or "",
        "respond_by": respond_by,
        "resolve_by": resolve_by,
        # every job has a checklist: the default of its type when none was given
        "checklist": [
            item.model_dump(mode="json") for item in data.checklist or default_checklist(data.type)
        ],
        "parts": [],
        "notes": "",
        "created_at": now,
        "updated_at": now,
    }
    inserted = session.scalar(
        pg_insert(WorkOrder).values(**values).on_conflict_do_nothing().returning(WorkOrder.id)
    )
    if inserted is None:
        return None
    work_order = session.get_one(WorkOrder, work_order_id)
    _record_event(session, work_order, actor=actor, from_status=None, note="created", at=now)
    record_change(
        session, actor=actor, action=CREATE, entity=ENTITY, entity_id=work_order.id,
        before=None, after=snapshot(work_order, AUDIT_FIELDS),
    )  # fmt: skip
    # delivered at commit: dispatch wakes up for the new order
    session.execute(select(func.pg_notify("work_orders", str(work_order.id))))
    return work_order


def create_work_order(session: Session, *, actor: Principal, data: WorkOrderCreate) -> WorkOrder:
    """Open a work order (staff; a customer may request service on their own asset: only its
    asset, title, description and an urgency of 2 to 4 are theirs, the rest is ours)."""
    data = _require_may_create(session, actor, data)
    work_order = insert_work_order(session, actor=actor, data=data)
    if work_order is None:
        raise Conflict(
            "This alert or PM occurrence already has a work order.", code="work_order_exists"
        )
    return work_order


def get_work_order(session: Session, *, principal: Principal, work_order_id: int) -> WorkOrder:
    """One work order the principal may see; NotFound otherwise, also across tenants."""
    return _load(session, principal=principal, work_order_id=work_order_id, lock=False)


def list_work_orders(
    session: Session,
    *,
    principal: Principal,
    status: str | None = None,
    engineer_id: int | None = None,
    asset_id: int | None = None,
    limit: int = 100,
) -> Sequence[WorkOrder]:
    """Work orders the principal may see, most urgent first."""
    query = select(WorkOrder).where(_visible_to(principal))
    if status is not None:
        query = query.where(WorkOrder.status == status)
    if engineer_id is not None:
        query = query.where(WorkOrder.engineer_id == engineer_id)
    if asset_id is not None:
        query = query.where(WorkOrder.asset_id == asset_id)
    query = query.order_by(WorkOrder.priority, WorkOrder.respond_by, WorkOrder.id)
    return session.scalars(query.limit(min(limit, 1000))).all()


def list_work_order_events(
    session: Session, *, principal: Principal, work_order_id: int
) -> Sequence[WorkOrderEvent]:
    """A work order's history, oldest first."""
    _load(session, principal=principal, work_order_id=work_order_id, lock=False)
    query = select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == work_order_id)
    return session.scalars(query.order_by(WorkOrderEvent.at, WorkOrderEvent.id)).all()


def transition(
    session: Session, *, actor: Principal, work_order_id: int, target: str, note: str = ""
) -> WorkOrder:
    """Move a work order to `target` if the state machine and the actor's role allow it."""
    work_order = _load(session, principal=actor, work_order_id=work_order_id, lock=True)
    goal = check_transition(work_order.status, target)
    if goal == Status.COMPLETED:
        raise InvalidInput(
            "A work order is completed with its report and signature.", code="needs_completion"
        )
    if not actor.is_staff:
        engineer_id = _engineer_id_of(session, actor)
        if goal not in BY_ENGINEER:
            raise PermissionDenied(f"Only a dispatcher can set a work order to {goal.value}.")
        if work_order.engineer_id is None:
            if goal in (Status.ACCEPTED, Status.DECLINED):
                # the offer's own answer checks its expiry and the engineer's capacity
                raise Conflict(
                    "Answer the offer itself: accept or decline it from your jobs.",
                    code="answer_the_offer",
                )
            raise PermissionDenied("Accept the job before working on it.")
        if goal == Status.ACCEPTED and work_order.engineer_id != engineer_id:
            raise PermissionDenied("This job is another engineer's.")
    return move(session, work_order, goal, actor=actor, note=note)


def update_visit(
    session: Session,
    *,
    actor: Principal,
    work_order_id: int,
    checklist: Sequence[ChecklistItem] | None = None,
    parts: Sequence[PartUsed] | None = None,
    notes: str | None = None,
) -> WorkOrder:
    """Record the checklist, parts used and notes of a visit in progress."""
    work_order = _load(session, principal=actor, work_order_id=work_order_id, lock=True)
    _require_worker(session, actor, work_order)
    if work_order.status not in VISIT_STATUSES:
        raise InvalidInput(
            f"A work order that is {work_order.status} takes no visit report.", code="not_visiting"
        )
    changes: dict[str, Any] = {}
    if checklist is not None:
        changes["checklist"] = [item.model_dump(mode="json") for item in checklist]
    if parts is not None:
        changes["parts"] = [part.model_dump(mode="json") for part in parts]
    if notes is not None:
        changes["notes"] = notes
    before = {name: getattr(work_order, name) for name in changes}
    for name, value in changes.items():
        setattr(work_order, name, value)
    work_order.updated_at = utcnow()
    record_change(
        session, actor=actor, action=UPDATE, entity=ENTITY, entity_id=work_order.id,
        before=before, after=changes,
    )  # fmt: skip
    return work_order


def complete_work_order(
    session: Session,
    *,
    actor: Principal,
    work_order_id: int,
    outcome: str,
    signature_png: bytes,
    signed_by: str,
    notes: str = "",
) -> WorkOrder:
    """Finish a visit with its outcome and the customer's signature; a half-done job returns."""
    work_order = _load(session, principal=actor, work_order_id=work_order_id, lock=True)
    _require_worker(session, actor, work_order)
    if outcome not in OUTCOMES:
        raise InvalidInput(f"Outcome must be one of {', '.join(OUTCOMES)}.", field="outcome")
    signature_png = normalised_signature(signature_png)
    if not signed_by.strip() or len(signed_by) > 200:
        raise InvalidInput("Who signed is required (up to 200 characters).", field="signed_by")
    goal = check_transition(work_order.status, Status.COMPLETED)
    changes = {"outcome": outcome, "signature_png": signature_png, "signed_by": signed_by.strip()}
    if notes.strip():
        changes["notes"] = f"{work_order.notes}\n{notes.strip()}".strip()
    move(session, work_order, goal, actor=actor, note=f"outcome: {outcome}", changes=changes)
    asset = session.get_one(Asset, work_order.asset_id)
    if outcome != "not_fixed":
        record_service(session, asset_id=asset.id, runtime_hours=asset.runtime_hours)
    if outcome == "fixed" and work_order.pm_plan_id is not None:
        _record_pm_done(session, work_order, asset)
    if outcome == "fixed":
        _resolve_alerts(session, actor=actor, work_order=work_order)
    else:
        _follow_up(session, actor=actor, visited=work_order)
    refresh_health(session, asset_ids=[asset.id])
    return work_order


def move(
    session: Session,
    work_order: WorkOrder,
    goal: Status,
    *,
    actor: Principal,
    note: str = "",
    now: datetime | None = None,
    changes: dict[str, Any] | None = None,
) -> WorkOrder:
    """Apply an allowed transition (the caller holds the row lock): timestamps, event, audit."""
    check_transition(work_order.status, goal)
    now = now or utcnow()
    before = snapshot(work_order, AUDIT_FIELDS)
    previous = work_order.status
    if previous == Status.ON_SITE and work_order.on_site_at is not None:
        visit = int((now - work_order.on_site_at).total_seconds())
        work_order.time_on_site_s = (work_order.time_on_site_s or 0) + max(visit, 0)
    if goal == Status.ON_SITE:
        work_order.on_site_at = now
    if goal == Status.COMPLETED:
        work_order.completed_at = now
    if goal in (Status.NEW, Status.DECLINED, Status.REASSIGNED):
        work_order.engineer_id = None  # back to dispatch
    for name, value in (changes or {}).items():
        setattr(work_order, name, value)
    work_order.status = goal.value
    work_order.updated_at = now
    _record_event(session, work_order, actor=actor, from_status=previous, note=note, at=now)
    record_change(
        session, actor=actor, action=UPDATE, entity=ENTITY, entity_id=work_order.id,
        before=before, after=snapshot(work_order, AUDIT_FIELDS),
    )  # fmt: skip
    return work_order


def record_note(session: Session, work_order: WorkOrder, *, note: str) -> WorkOrderEvent:
    """A system event that changes no status (e.g. a repeated alert), in the history."""
    return _record_event(
        session, work_order, actor=SYSTEM, from_status=work_order.status, note=note, at=utcnow()
    )


def _record_event(
    session: Session,
    work_order: WorkOrder,
    *,
    actor: Principal,
    from_status: str | None,
    note: str,
    at: datetime,
) -> WorkOrderEvent:
    event = WorkOrderEvent(
        work_order_id=work_order.id,
        at=at,
        actor_user_id=None if actor == SYSTEM else actor.user_id,
        from_status=from_status,
        to_status=work_order.status,
        note=note,
    )
    session.add(event)
    session.flush()
    return event


def _visible_to(principal: Principal) -> ColumnElement[bool]:
    if principal.is_staff:
        return true()
    if principal.role == Role.ENGINEER:
        mine = select(Engineer.id).where(Engineer.user_id == principal.user_id).scalar_subquery()
        offered = select(DispatchOffer.work_order_id).where(
            DispatchOffer.engineer_id == mine, DispatchOffer.status == OfferStatus.PENDING
        )
        return or_(WorkOrder.engineer_id == mine, WorkOrder.id.in_(offered))
    return WorkOrder.asset_id.in_(select(Asset.id).where(asset_visibility(principal)))


def _load(session: Session, *, principal: Principal, work_order_id: int, lock: bool) -> WorkOrder:
    query = select(WorkOrder).where(WorkOrder.id == work_order_id, _visible_to(principal))
    if lock:
        query = query.with_for_update(of=WorkOrder)
    work_order = session.scalar(query)
    if work_order is None:
        raise NotFound(f"No work order {work_order_id}.", entity="work_orders")
    return work_order


def _engineer_id_of(session: Session, actor: Principal) -> int:
    engineer_id = None
    if actor.role == Role.ENGINEER:
        engineer_id = session.scalar(select(Engineer.id).where(Engineer.user_id == actor.user_id))
    if engineer_id is None:
        raise PermissionDenied("Only dispatchers and the engineer on the job can do this.")
    return engineer_id


def _require_worker(session: Session, actor: Principal, work_order: WorkOrder) -> None:
    if actor.is_staff:
        return
    if work_order.engineer_id != _engineer_id_of(session, actor):
        raise PermissionDenied("Only the engineer on the job can do this.")


CUSTOMER_PRIORITIES = range(2, 5)  # P1 (emergency) is the dispatcher's call


def _require_may_create(
    session: Session, actor: Principal, data: WorkOrderCreate
) -> WorkOrderCreate:
    """The order as it may be opened: staff's as given (the alert must be of its asset), a
    customer's rebuilt from what is theirs to say; who asks is checked before any id is."""
    if not actor.is_staff:
        if actor.role != Role.CUSTOMER or data.source != WorkOrderSource.CUSTOMER_REQUEST:
            raise PermissionDenied("Only dispatchers open work orders; customers request service.")
        own = select(Asset.id).where(Asset.id == data.asset_id, asset_visibility(actor))
        if session.scalar(own) is None:
            raise NotFound(f"No asset {data.asset_id}.", entity="assets")
        return WorkOrderCreate(
            type=WorkOrderType.CORRECTIVE,
            source=WorkOrderSource.CUSTOMER_REQUEST,
            asset_id=data.asset_id,
            priority=min(max(data.priority, CUSTOMER_PRIORITIES[0]), CUSTOMER_PRIORITIES[-1]),
            title=data.title,
            description=data.description,
        )
    if data.alert_id is not None:
        alert = session.get(Alert, data.alert_id)
        if alert is None:
            raise NotFound(f"No alert {data.alert_id}.", entity="alerts")
        if alert.asset_id != data.asset_id:
            raise InvalidInput(
                "The alert is of another asset: open the order for the asset that raised it.",
                field="alert_id",
            )
    if data.pm_plan_id is not None and session.get(PmPlan, data.pm_plan_id) is None:
        raise NotFound(f"No PM plan {data.pm_plan_id}.", entity="pm_plans")
    return data


def _record_pm_done(session: Session, work_order: WorkOrder, asset: Asset) -> None:
    done = {
        "last_done_on": (work_order.completed_at or utcnow()).date(),
        "last_done_hours": asset.runtime_hours,
        "last_work_order_id": work_order.id,
        "updated_at": utcnow(),
    }
    session.execute(
        pg_insert(PmProgress)
        .values(pm_plan_id=work_order.pm_plan_id, asset_id=asset.id, **done)
        .on_conflict_do_update(index_elements=["pm_plan_id", "asset_id"], set_=done)
    )


def _resolve_alerts(session: Session, *, actor: Principal, work_order: WorkOrder) -> None:
    """The fault is fixed: the alerts the order covers are resolved, not left open."""
    covered = select(WorkOrderAlert.alert_id).where(WorkOrderAlert.work_order_id == work_order.id)
    alert_ids = {*session.scalars(covered), *([work_order.alert_id] if work_order.alert_id else [])}
    why = f"fixed on service visit {work_order.number}"
    resolved = resolve_by_service(session, actor=actor, alert_ids=sorted(alert_ids), note=why)
    if resolved:
        numbers = ", ".join(f"#{alert.id}" for alert in resolved)
        noun = "alerts" if len(resolved) > 1 else "alert"
        record_note(session, work_order, note=f"{noun} {numbers} resolved: fixed on this visit")


def _follow_up(session: Session, *, actor: Principal, visited: WorkOrder) -> WorkOrder:
    """A new order back to dispatch for what the visit left undone; it inherits the alerts."""
    undone = [ChecklistItem.model_validate(item) for item in visited.checklist]
    data = WorkOrderCreate(
        type=WorkOrderType(visited.type),
        source=WorkOrderSource(visited.source),
        asset_id=visited.asset_id,
        priority=visited.priority,
        title=f"Follow-up of {visited.number}: {visited.title}"[:200],
        description=f"{visited.outcome}: {visited.notes}".strip()[:10_000],
        required_level=visited.required_level,
        pm_plan_id=visited.pm_plan_id,
        checklist=[item for item in undone if not item.done],
    )
    follow_up = insert_work_order(session, actor=actor, data=data)
    if follow_up is None:  # no alert and no PM date: nothing can conflict
        raise Conflict(f"Could not open the follow-up of {visited.number}.")
    session.execute(
        update(WorkOrderAlert)
        .where(WorkOrderAlert.work_order_id == visited.id)
        .values(work_order_id=follow_up.id)
    )
    record_note(session, visited, note=f"follow-up {follow_up.number} back to dispatch")
    return follow_up
