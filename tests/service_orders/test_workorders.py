"""Work orders: SLAs, the audited state machine, who may see and move what, completion."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import utcnow
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.models import AuditLog
from service_orders.dispatch.offers import accept_offer
from service_orders.models import (
    DispatchOffer,
    ServiceContract,
    WorkOrder,
    WorkOrderSource,
    WorkOrderType,
)
from service_orders.overdue import mark_overdue
from service_orders.schemas import ChecklistItem, PartUsed, WorkOrderCreate
from service_orders.workorders import (
    complete_work_order,
    create_work_order,
    get_work_order,
    list_work_order_events,
    list_work_orders,
    transition,
    update_visit,
)
from telemetry.health.models import AssetServiceMeter
from tests.crm.factories import make_asset, make_org, make_product_model, make_user, principal_of
from tests.service_orders.workorder_factories import make_engineer, open_order, png, staff


def _on_site(db: Session, work_order: WorkOrder, engineer_principal: Principal) -> None:
    for target in ("accepted", "en_route", "on_site"):
        transition(db, actor=engineer_principal, work_order_id=work_order.id, target=target)


def _assigned(db: Session) -> tuple[WorkOrder, Principal]:
    dispatcher = staff(db)
    asset = make_asset(db, owner=make_org(db))
    work_order = open_order(db, asset, actor=dispatcher)
    engineer, engineer_principal = make_engineer(db)
    work_order.engineer_id = engineer.id
    db.flush()
    return work_order, engineer_principal


def test_new_order_gets_number_family_and_default_sla_by_priority(db: Session) -> None:
    model = make_product_model(db, family="chiller")
    asset = make_asset(db, owner=make_org(db), product_model=model)
    work_order = open_order(db, asset, actor=staff(db), priority=1)
    assert work_order.number == f"WO-{work_order.id:06d}"
    assert work_order.status == "new"
    assert work_order.required_family == "chiller"
    assert work_order.respond_by - work_order.created_at == timedelta(hours=4)
    assert work_order.resolve_by - work_order.created_at == timedelta(hours=24)


def test_customer_contract_tier_sets_the_sla(db: Session) -> None:
    owner = make_org(db)
    db.add(ServiceContract(org_id=owner.id, tier="gold", respond_hours=2, resolve_hours=8))
    work_order = open_order(db, make_asset(db, owner=owner), actor=staff(db), priority=4)
    assert work_order.respond_by - work_order.created_at == timedelta(hours=2)
    assert work_order.resolve_by - work_order.created_at == timedelta(hours=8)


def test_customer_may_request_service_only_on_own_asset(db: Session) -> None:
    owner, other = make_org(db), make_org(db)
    customer = principal_of(make_user(db, org=owner))
    request = WorkOrderCreate(
        type=WorkOrderType.INSPECTION,
        source=WorkOrderSource.CUSTOMER_REQUEST,
        asset_id=make_asset(db, owner=owner).id,
        title="Strange noise",
    )
    assert create_work_order(db, actor=customer, data=request).status == "new"
    foreign = request.model_copy(update={"asset_id": make_asset(db, owner=other).id})
    with pytest.raises(NotFound):
        create_work_order(db, actor=customer, data=foreign)
    with pytest.raises(PermissionDenied):
        create_work_order(
            db, actor=customer, data=request.model_copy(update={"source": WorkOrderSource.MANUAL})
        )


def test_engineer_works_own_job_with_events_audit_and_time_on_site(db: Session) -> None:
    work_order, engineer = _assigned(db)
    _on_site(db, work_order, engineer)
    assert work_order.on_site_at is not None
    transition(db, actor=engineer, work_order_id=work_order.id, target="on_hold", note="no part")
    assert work_order.time_on_site_s is not None
    assert work_order.time_on_site_s >= 0
    events = list_work_order_events(db, principal=engineer, work_order_id=work_order.id)
    assert [e.to_status for e in events] == ["new", "accepted", "en_route", "on_site", "on_hold"]
    assert events[-1].note == "no part"
    audited = db.scalars(
        select(AuditLog)
        .where(AuditLog.entity == "work_order", AuditLog.entity_id == str(work_order.id))
        .order_by(AuditLog.id)
    ).all()
    assert len(audited) == 5
    assert audited[-1].after is not None
    assert audited[-1].after["status"] == "on_hold"


def test_engineer_cannot_touch_someone_elses_job(db: Session) -> None:
    work_order, _ = _assigned(db)
    _, stranger = make_engineer(db)
    with pytest.raises(NotFound):
        transition(db, actor=stranger, work_order_id=work_order.id, target="en_route")
    with pytest.raises(NotFound):
        get_work_order(db, principal=stranger, work_order_id=work_order.id)


def test_engineer_may_not_cancel_even_own_job(db: Session) -> None:
    work_order, engineer = _assigned(db)
    transition(db, actor=engineer, work_order_id=work_order.id, target="accepted")
    with pytest.raises(PermissionDenied):
        transition(db, actor=engineer, work_order_id=work_order.id, target="cancelled")


def test_engineer_sees_and_accepts_a_job_offered_to_them(db: Session) -> None:
    work_order = open_order(db, make_asset(db, owner=make_org(db)), actor=staff(db))
    engineer, principal = make_engineer(db)
    with pytest.raises(NotFound):
        get_work_order(db, principal=principal, work_order_id=work_order.id)
    offer = DispatchOffer(
        work_order_id=work_order.id,
        engineer_id=engineer.id,
        expires_at=utcnow() + timedelta(minutes=5),
    )
    db.add(offer)
    transition(db, actor=staff(db), work_order_id=work_order.id, target="offered")
    assert get_work_order(db, principal=principal, work_order_id=work_order.id) is work_order
    # not through a bare status change, which would skip the offer's expiry and capacity
    for answer in ("accepted", "declined"):
        with pytest.raises(Conflict, match="Answer the offer"):
            transition(db, actor=principal, work_order_id=work_order.id, target=answer)
    accept_offer(db, actor=principal, offer_id=offer.id)
    assert (work_order.engineer_id, work_order.status) == (engineer.id, "accepted")


def test_illegal_transition_is_refused_and_changes_nothing(db: Session) -> None:
    work_order = open_order(db, make_asset(db, owner=make_org(db)), actor=staff(db))
    with pytest.raises(IllegalTransition, match="allowed next"):
        transition(db, actor=staff(db), work_order_id=work_order.id, target="on_site")
    assert work_order.status == "new"


def test_customer_sees_only_work_orders_of_own_assets(db: Session) -> None:
    dispatcher = staff(db)
    owner, other = make_org(db), make_org(db)
    mine = open_order(db, make_asset(db, owner=owner), actor=dispatcher)
    theirs = open_order(db, make_asset(db, owner=other), actor=dispatcher)
    customer = principal_of(make_user(db, org=owner))
    assert [w.id for w in list_work_orders(db, principal=customer)] == [mine.id]
    with pytest.raises(NotFound):
        get_work_order(db, principal=customer, work_order_id=theirs.id)
    with pytest.raises(PermissionDenied):
        transition(db, actor=customer, work_order_id=mine.id, target="cancelled")


def test_visit_report_is_recorded_only_while_visiting(db: Session) -> None:
    work_order, engineer = _assigned(db)
    with pytest.raises(InvalidInput):
        update_visit(db, actor=engineer, work_order_id=work_order.id, notes="early")
    _on_site(db, work_order, engineer)
    update_visit(
        db,
        actor=engineer,
        work_order_id=work_order.id,
        checklist=[ChecklistItem(label="Check oil", done=True)],
        parts=[PartUsed(part_no="F-100", quantity=Decimal("2"))],
        notes="Replaced filter",
    )
    assert work_order.checklist == [{"label": "Check oil", "done": True, "note": ""}]
    assert work_order.parts[0]["part_no"] == "F-100"
    assert work_order.notes == "Replaced filter"


def test_completion_needs_a_png_signature(db: Session) -> None:
    work_order, engineer = _assigned(db)
    _on_site(db, work_order, engineer)
    for bad in (b"GIF89a....", b"", b"\x89PNG\r\n\x1a\n" + b"x" * 300_000):
        with pytest.raises(InvalidInput):
            complete_work_order(
                db, actor=engineer, work_order_id=work_order.id,
                outcome="fixed", signature_png=bad, signed_by="Ann",
            )  # fmt: skip
    with pytest.raises(InvalidInput):
        complete_work_order(
            db, actor=engineer, work_order_id=work_order.id,
            outcome="fixed", signature_png=png(), signed_by="  ",
        )  # fmt: skip
    assert work_order.status == "on_site"


def test_fixed_visit_completes_and_restarts_the_service_meter(db: Session) -> None:
    work_order, engineer = _assigned(db)
    _on_site(db, work_order, engineer)
    complete_work_order(
        db, actor=engineer, work_order_id=work_order.id,
        outcome="fixed", signature_png=png(), signed_by="Ann Smith", notes="All good",
    )  # fmt: skip
    assert (work_order.status, work_order.outcome, work_order.signed_by) == (
        "completed",
        "fixed",
        "Ann Smith",
    )
    assert work_order.completed_at is not None
    assert work_order.time_on_site_s is not None
    assert db.get(AssetServiceMeter, work_order.asset_id) is not None


def test_partially_fixed_visit_puts_a_follow_up_back_to_dispatch(db: Session) -> None:
    work_order, engineer = _assigned(db)
    work_order.checklist = [{"label": "a", "done": True}, {"label": "b", "done": False}]
    _on_site(db, work_order, engineer)
    complete_work_order(
        db, actor=engineer, work_order_id=work_order.id,
        outcome="partially_fixed", signature_png=png(), signed_by="Ann", notes="part missing",
    )  # fmt: skip
    follow_ups = list_work_orders(db, principal=staff(db), asset_id=work_order.asset_id)
    follow_up = next(w for w in follow_ups if w.id != work_order.id)
    assert follow_up.status == "new"
    assert follow_up.engineer_id is None
    assert follow_up.title.startswith(f"Follow-up of {work_order.number}")
    assert [item["label"] for item in follow_up.checklist] == ["b"]


def test_unassigned_order_past_respond_by_becomes_overdue(db: Session) -> None:
    work_order = open_order(db, make_asset(db, owner=make_org(db)), actor=staff(db))
    assert mark_overdue(db, now=work_order.respond_by - timedelta(minutes=1)) == 0
    later = work_order.respond_by + timedelta(minutes=1)
    assert mark_overdue(db, now=later) >= 1
    assert (work_order.status, work_order.overdue_since) == ("overdue", later)
    mark_overdue(db, now=later + timedelta(hours=1))
    assert work_order.overdue_since == later
    events = list_work_order_events(db, principal=staff(db), work_order_id=work_order.id)
    assert [e.to_status for e in events] == ["new", "overdue"]


def test_held_order_past_resolve_by_keeps_status_but_is_flagged(db: Session) -> None:
    work_order, engineer = _assigned(db)
    transition(db, actor=engineer, work_order_id=work_order.id, target="accepted")
    later = work_order.resolve_by + timedelta(minutes=1)
    mark_overdue(db, now=later)
    assert (work_order.status, work_order.overdue_since) == ("accepted", later)
    events = list_work_order_events(db, principal=staff(db), work_order_id=work_order.id)
    assert events[-1].note == "resolve-by passed"
