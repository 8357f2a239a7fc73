"""The work order raised for an alert, for telemetry's alerts list (registered on import)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.labels import label
from service_orders.models import WorkOrder
from service_orders.states import OPEN
from telemetry.alerts.follow_ups import AlertFollowUp, register_follow_ups


def work_orders_of_alerts(session: Session, alert_ids: Sequence[int]) -> dict[int, AlertFollowUp]:
    """Each alert's work order; an open one links to its card on the dispatch board."""
    rows = session.execute(
        select(WorkOrder.alert_id, WorkOrder.id, WorkOrder.number, WorkOrder.status).where(
            WorkOrder.alert_id.in_(list(alert_ids))
        )
    )
    return {
        int(alert_id): AlertFollowUp(
            number=number,
            status=status,
            state=label(status, "work_order_status"),
            url=f"/staff/dispatch#order-{order_id}" if status in OPEN else None,
        )
        for alert_id, order_id, number, status in rows
        if alert_id is not None
    }


register_follow_ups("work_orders", work_orders_of_alerts)
