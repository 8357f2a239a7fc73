"""Preventive maintenance plans: calendar and hour-meter visits, planned ahead of time."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.db import utcnow
from core.errors import NotFound, PermissionDenied
from crm.audit import CREATE, record_change, snapshot
from crm.models import Asset, ProductModel
from service_orders.models import PmPlan, WorkOrder, WorkOrderSource, WorkOrderType
from service_orders.schemas import ChecklistItem, PmPlanCreate, WorkOrderCreate
from service_orders.states import OPEN, Status
from service_orders.tracking import PmProgress
from service_orders.workorders import insert_work_order

PM_PRIORITY = 3
PLAN_FIELDS = (
    "name", "product_model_id", "asset_id", "kind", "every_days", "every_hours",
    "horizon_days", "required_level", "active",
)  # fmt: skip


def create_pm_plan(session: Session, *, actor: Principal, data: PmPlanCreate) -> PmPlan:
    """Define a maintenance plan for a product model or one asset (staff only)."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff define maintenance plans.")
    if (
        data.product_model_id is not None
        and session.get(ProductModel, data.product_model_id) is None
    ):
        raise NotFound(f"No product model {data.product_model_id}.", entity="product_models")
    if data.asset_id is not None and session.get(Asset, data.asset_id) is None:
        raise NotFound(f"No asset {data.asset_id}.", entity="assets")
    plan = PmPlan(**data.model_dump(exclude={"checklist"}))
    plan.checklist = [item.model_dump(mode="json") for item in data.checklist]
    session.add(plan)
    session.flush()
    record_change(
        session, actor=actor, action=CREATE, entity="pm_plan", entity_id=plan.id,
        before=None, after=snapshot(plan, PLAN_FIELDS),
    )  # fmt: skip
    return plan


def plan_preventive_maintenance(session: Session, *, today: date | None = None) -> int:
    """Open the PM work orders falling due within each plan's horizon; returns how many."""
    today = today or utcnow().date()
    plans = session.scalars(select(PmPlan).where(PmPlan.active).order_by(PmPlan.id)).all()
    created = 0
    for plan in plans:
        scope = Asset.id == plan.asset_id
        if plan.product_model_id is not None:
            scope = Asset.product_model_id == plan.product_model_id
        assets = session.scalars(select(Asset).where(scope).order_by(Asset.id)).all()
        pending = _assets_with_open_order(session, plan.id)
        progress = _progress(session, plan.id)
        cancelled = _cancelled_visits(session, plan.id)
        for asset in assets:
            if asset.id in pending:
                continue  # one visit of a plan at a time: the next is planned once it is done
            due = next_due(plan, asset, progress.get(asset.id), today=today)
            while due is not None and plan.kind == "calendar" and (asset.id, due) in cancelled:
                due += timedelta(days=plan.every_days or 1)  # a cancelled visit is skipped
            if due is not None and due <= today + timedelta(days=plan.horizon_days):
                created += _open_visit(session, plan, asset, due) is not None
    return created


def next_due(
    plan: PmPlan, asset: Asset, progress: PmProgress | None, *, today: date
) -> date | None:
    """The date the plan's next visit on the asset falls due (None: not foreseeable yet)."""
    if plan.kind == "calendar":
        return _calendar_due(plan, asset, progress)
    return _meter_due(plan, asset, progress, today=today)


def _calendar_due(plan: PmPlan, asset: Asset, progress: PmProgress | None) -> date:
    every = timedelta(days=plan.every_days or 1)
    if progress is not None:
        return progress.last_done_on + every
    # never serviced under this plan: the first interval after the plan started, so a new
    # plan on an old fleet does not open every past occurrence as overdue at once
    started = plan.created_at.date()
    periods = max(1, math.ceil((started - asset.install_date) / every))
    return asset.install_date + periods * every


def _meter_due(
    plan: PmPlan, asset: Asset, progress: PmProgress | None, *, today: date
) -> date | None:
    last_hours = progress.last_done_hours if progress is not None else Decimal(0)
    since = progress.last_done_on if progress is not None else asset.install_date
    remaining = last_hours + (plan.every_hours or 0) - asset.runtime_hours
    if remaining <= 0:
        return today
    # forecast with the asset's average use since the last visit (or since installation)
    days_used = max((today - since).days, 1)
    per_day = (asset.runtime_hours - last_hours) / days_used
    if per_day <= 0:
        return None
    return today + timedelta(days=math.ceil(remaining / per_day))


def _open_visit(session: Session, plan: PmPlan, asset: Asset, due: date) -> WorkOrder | None:
    every = f"every {plan.every_days} days" if plan.kind == "calendar" else (
        f"every {plan.every_hours} h at {asset.runtime_hours} h"
    )  # fmt: skip
    data = WorkOrderCreate(
        type=WorkOrderType.PREVENTIVE,
        source=WorkOrderSource.PM_PLAN,
        asset_id=asset.id,
        priority=PM_PRIORITY,
        title=f"{plan.name} (due {due.isoformat()})"[:200],
        description=f"Preventive maintenance {every}.",
        required_level=plan.required_level,
        pm_plan_id=plan.id,
        pm_due_on=due,
        checklist=[ChecklistItem.model_validate(item) for item in plan.checklist],
    )
    return insert_work_order(session, actor=SYSTEM, data=data)


def _assets_with_open_order(session: Session, plan_id: int) -> set[int]:
    query = select(WorkOrder.asset_id).where(
        WorkOrder.pm_plan_id == plan_id, WorkOrder.status.in_(OPEN)
    )
    return set(session.scalars(query))


def _cancelled_visits(session: Session, plan_id: int) -> set[tuple[int, date]]:
    query = select(WorkOrder.asset_id, WorkOrder.pm_due_on).where(
        WorkOrder.pm_plan_id == plan_id,
        WorkOrder.status == Status.CANCELLED,
        WorkOrder.pm_due_on.is_not(None),
    )
    return {(asset_id, due) for asset_id, due in session.execute(query).all() if due}


def _progress(session: Session, plan_id: int) -> dict[int, PmProgress]:
    rows = session.scalars(select(PmProgress).where(PmProgress.pm_plan_id == plan_id))
    return {row.asset_id: row for row in rows}
