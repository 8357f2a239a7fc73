"""PM plans: calendar and hour-meter visits opened ahead of time, once, and never forgotten."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import PermissionDenied
from crm.models import Asset
from service_orders.models import PmPlan, WorkOrder
from service_orders.pm import create_pm_plan, plan_preventive_maintenance
from service_orders.schemas import ChecklistItem, PmPlanCreate
from service_orders.workorders import complete_work_order, transition
from tests.crm.factories import make_asset, make_org, make_user, principal_of
from tests.service_orders.workorder_factories import png, staff

INSTALLED = date(2025, 3, 1)  # the factories' install date


def _plan(db: Session, asset: Asset, actor: Principal, **fields: object) -> PmPlan:
    data = PmPlanCreate.model_validate(
        {"name": "Quarterly service", "asset_id": asset.id, "kind": "calendar"} | fields
    )
    plan = create_pm_plan(db, actor=actor, data=data)
    plan.created_at = datetime(2025, 3, 1, tzinfo=UTC)  # as if planned at installation
    return plan


def _visits(db: Session, plan: PmPlan) -> list[WorkOrder]:
    query = select(WorkOrder).where(WorkOrder.pm_plan_id == plan.id).order_by(WorkOrder.id)
    return list(db.scalars(query))


def _finish(db: Session, actor: Principal, work_order: WorkOrder, outcome: str) -> None:
    for target in ("accepted", "en_route", "on_site"):
        transition(db, actor=actor, work_order_id=work_order.id, target=target)
    complete_work_order(
        db, actor=actor, work_order_id=work_order.id, outcome=outcome,
        signature_png=png(), signed_by="Site manager",
    )  # fmt: skip


def test_calendar_visit_is_opened_within_the_horizon_once(db: Session) -> None:
    dispatcher = staff(db)
    asset = make_asset(db, owner=make_org(db))
    plan = _plan(
        db, asset, dispatcher, every_days=30, horizon_days=14,
        checklist=[ChecklistItem(label="Change oil")],
    )  # fmt: skip
    assert plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=10)) == 0
    assert plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=20)) == 1
    assert plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=21)) == 0
    [visit] = _visits(db, plan)
    assert visit.pm_due_on == INSTALLED + timedelta(days=30)
    assert (visit.type, visit.source, visit.priority) == ("preventive", "pm_plan", 3)
    assert visit.checklist == [{"label": "Change oil", "done": False, "note": ""}]
    # the SLA runs from the due date (priority 3 without a contract: 24 h / 72 h)
    due_start = datetime.combine(INSTALLED + timedelta(days=30), time(), UTC)
    assert visit.respond_by == due_start + timedelta(hours=24)
    assert visit.resolve_by == due_start + timedelta(hours=72)


def test_next_calendar_visit_counts_from_the_last_completed_one(db: Session) -> None:
    dispatcher = staff(db)
    plan = _plan(db, make_asset(db, owner=make_org(db)), dispatcher, every_days=30)
    plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=25))
    [first] = _visits(db, plan)
    _finish(db, dispatcher, first, "fixed")
    assert first.completed_at is not None
    done_on = first.completed_at.date()
    assert plan_preventive_maintenance(db, today=done_on + timedelta(days=20)) == 1
    assert _visits(db, plan)[-1].pm_due_on == done_on + timedelta(days=30)


def test_half_done_visit_is_followed_up_and_not_doubled(db: Session) -> None:
    dispatcher = staff(db)
    plan = _plan(db, make_asset(db, owner=make_org(db)), dispatcher, every_days=30)
    plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=25))
    [first] = _visits(db, plan)
    _finish(db, dispatcher, first, "partially_fixed")
    [_, follow_up] = _visits(db, plan)
    assert (follow_up.status, follow_up.pm_due_on) == ("new", None)
    assert plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=60)) == 0


def test_cancelled_visit_is_skipped_not_repeated(db: Session) -> None:
    dispatcher = staff(db)
    plan = _plan(db, make_asset(db, owner=make_org(db)), dispatcher, every_days=30)
    plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=25))
    [first] = _visits(db, plan)
    transition(db, actor=dispatcher, work_order_id=first.id, target="cancelled")
    assert plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=55)) == 1
    assert _visits(db, plan)[-1].pm_due_on == INSTALLED + timedelta(days=60)


def test_meter_visit_is_due_now_when_the_hours_are_reached(db: Session) -> None:
    asset = make_asset(db, owner=make_org(db))
    asset.runtime_hours = Decimal("510")
    plan = _plan(db, asset, staff(db), kind="meter", every_hours=500)
    today = INSTALLED + timedelta(days=100)
    assert plan_preventive_maintenance(db, today=today) == 1
    assert _visits(db, plan)[0].pm_due_on == today


def test_meter_visit_is_forecast_from_the_hours_run_per_day(db: Session) -> None:
    asset = make_asset(db, owner=make_org(db))
    asset.runtime_hours = Decimal("400")  # 20 h a day over 20 days
    plan = _plan(db, asset, staff(db), kind="meter", every_hours=500, horizon_days=3)
    today = INSTALLED + timedelta(days=20)
    assert plan_preventive_maintenance(db, today=today) == 0  # due in 5 days, horizon 3
    plan.horizon_days = 7
    assert plan_preventive_maintenance(db, today=today) == 1
    assert _visits(db, plan)[0].pm_due_on == today + timedelta(days=5)


def test_model_plan_covers_every_asset_of_the_model(db: Session) -> None:
    first = make_asset(db, owner=make_org(db))
    second = make_asset(db, owner=make_org(db))
    second.product_model_id = first.product_model_id
    db.flush()
    data = PmPlanCreate(
        name="Yearly", product_model_id=first.product_model_id, kind="calendar", every_days=365
    )
    plan = create_pm_plan(db, actor=staff(db), data=data)
    plan.created_at = datetime(2025, 3, 1, tzinfo=UTC)
    assert plan_preventive_maintenance(db, today=INSTALLED + timedelta(days=360)) == 2


def test_only_staff_define_plans_and_intervals_match_the_kind(db: Session) -> None:
    asset = make_asset(db, owner=make_org(db))
    customer = principal_of(make_user(db, org=make_org(db)))
    data = PmPlanCreate(name="Mine", asset_id=asset.id, kind="calendar", every_days=30)
    with pytest.raises(PermissionDenied):
        create_pm_plan(db, actor=customer, data=data)
    with pytest.raises(ValidationError):
        PmPlanCreate(name="Bad", asset_id=asset.id, kind="meter", every_days=30)
