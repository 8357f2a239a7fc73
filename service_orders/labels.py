"""Words for service_orders' codes: staff read the job's state, customers read what it means
for them ("finding an engineer"), and outcomes, types and sources read as sentences."""

from __future__ import annotations

from core.labels import register_labels
from service_orders.models import EngineerStatus, WorkOrderSource, WorkOrderType
from service_orders.states import Status
from service_orders.workorders import OUTCOMES

register_labels(
    "work_order_status",
    {
        Status.NEW: "New",
        Status.OFFERED: "Offered",
        Status.DECLINED: "Declined",
        Status.REASSIGNED: "Reassigned",
        Status.OVERDUE: "Overdue",
        Status.ACCEPTED: "Accepted",
        Status.EN_ROUTE: "On the way",
        Status.ON_SITE: "On site",
        Status.ON_HOLD: "On hold",
        Status.COMPLETED: "Completed",
        Status.CLOSED: "Closed",
        Status.CANCELLED: "Cancelled",
    },
)
register_labels(
    "work_order_status_customer",
    {
        Status.NEW: "Received",
        Status.OFFERED: "Finding an engineer",
        Status.DECLINED: "Finding an engineer",
        Status.REASSIGNED: "Finding an engineer",
        Status.OVERDUE: "Finding an engineer",
        Status.ACCEPTED: "Engineer assigned",
        Status.EN_ROUTE: "Engineer on the way",
        Status.ON_SITE: "Engineer on site",
        Status.ON_HOLD: "On hold",
        Status.COMPLETED: "Done",
        Status.CLOSED: "Done",
        Status.CANCELLED: "Cancelled",
    },
)
register_labels(
    "work_order_outcome",
    dict(zip(OUTCOMES, ("Fixed", "Partly fixed", "Not fixed"), strict=True)),
)
register_labels(
    "work_order_type",
    {
        WorkOrderType.PREVENTIVE: "Preventive maintenance",
        WorkOrderType.PREDICTIVE: "Predicted failure",
        WorkOrderType.CORRECTIVE: "Repair",
        WorkOrderType.INSPECTION: "Inspection",
        WorkOrderType.INSTALLATION: "Installation",
    },
)
register_labels(
    "work_order_source",
    {
        WorkOrderSource.ALERT: "An alert",
        WorkOrderSource.PM_PLAN: "A maintenance plan",
        WorkOrderSource.CUSTOMER_REQUEST: "The customer's request",
        WorkOrderSource.MANUAL: "A dispatcher",
    },
)
register_labels(
    "engineer_status",
    {
        EngineerStatus.AVAILABLE: "Available",
        EngineerStatus.ON_JOB: "On a job",
        EngineerStatus.OFF_SHIFT: "Off shift",
    },
)
