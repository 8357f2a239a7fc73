"""Every job comes with a checklist: the default of its type when nobody gave one."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service_orders.checklists import DEFAULT_CHECKLISTS, default_checklist
from service_orders.intake import consume_alerts
from service_orders.models import WorkOrder, WorkOrderType
from service_orders.schemas import ChecklistItem, WorkOrderCreate
from service_orders.workorders import create_work_order
from tests.crm.factories import make_asset, make_org
from tests.service_orders.workorder_factories import make_alert, staff
from tests.telemetry.rule_factories import make_reporting_asset, make_rule


def test_every_work_order_type_has_a_default_checklist() -> None:
    assert set(DEFAULT_CHECKLISTS) == set(WorkOrderType)
    for kind in WorkOrderType:
        items = default_checklist(kind)
        assert len(items) >= 3, kind
        assert all(not item.done and item.label for item in items)


@pytest.mark.parametrize("kind", list(WorkOrderType))
def test_an_order_opened_without_a_checklist_gets_the_one_of_its_type(
    db: Session, kind: WorkOrderType
) -> None:
    asset = make_asset(db, owner=make_org(db))
    data = WorkOrderCreate(type=kind, asset_id=asset.id, title="Visit")

    order = create_work_order(db, actor=staff(db), data=data)

    labels = [item["label"] for item in order.checklist]
    assert labels == list(DEFAULT_CHECKLISTS[kind])
    assert {item["done"] for item in order.checklist} == {False}


def test_a_checklist_given_with_the_order_is_kept(db: Session) -> None:
    asset = make_asset(db, owner=make_org(db))
    data = WorkOrderCreate(
        type=WorkOrderType.PREVENTIVE,
        asset_id=asset.id,
        title="Service",
        checklist=[ChecklistItem(label="Change oil")],
    )

    order = create_work_order(db, actor=staff(db), data=data)

    assert [item["label"] for item in order.checklist] == ["Change oil"]


def test_an_order_from_an_alert_gets_the_repair_checklist(db: Session) -> None:
    reporting = make_reporting_asset(db)
    rule = make_rule(db, reporting, kind="threshold", severity="critical")
    make_alert(db, reporting, rule, severity="critical")

    consume_alerts(db)

    order = db.scalars(select(WorkOrder).where(WorkOrder.asset_id == reporting.asset.id)).one()
    assert order.type == "corrective"
    assert [item["label"] for item in order.checklist] == list(
        DEFAULT_CHECKLISTS[WorkOrderType.CORRECTIVE]
    )
