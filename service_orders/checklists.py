"""The default checklist of each kind of job: what an engineer works through on any visit.

Kept as data, one template per work-order type, so that staff can later edit them (a table
with the same shape) without touching the code that uses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from service_orders.models import WorkOrderType
from service_orders.schemas import ChecklistItem

_REPAIR = (
    "Talk to the customer about the fault",
    "Read the fault codes and recent alerts",
    "Find and fix the cause",
    "Test run under load",
    "Leave the site clean and safe",
)

DEFAULT_CHECKLISTS: Mapping[str, Sequence[str]] = {
    WorkOrderType.CORRECTIVE: _REPAIR,
    WorkOrderType.PREDICTIVE: (
        "Check the reading that predicted the failure",
        "Inspect the part at risk for wear",
        "Replace or adjust what is worn",
        "Test run and compare the readings",
        "Leave the site clean and safe",
    ),
    WorkOrderType.PREVENTIVE: (
        "Visual inspection for leaks, wear and damage",
        "Clean filters and coils",
        "Check fluid levels and top up",
        "Tighten electrical connections",
        "Test run and note the readings",
    ),
    WorkOrderType.INSPECTION: (
        "Visual inspection for leaks, wear and damage",
        "Check safety devices and guards",
        "Read and note the operating values",
        "Note anything that needs a repair visit",
    ),
    WorkOrderType.INSTALLATION: (
        "Check the delivery against the order",
        "Mount and level the unit",
        "Connect power and check the supply",
        "Commission and test run",
        "Show the customer how to operate it",
        "Hand over the documents",
    ),
}


def default_checklist(work_order_type: str) -> list[ChecklistItem]:
    """A fresh, unticked copy of the checklist for a type of job (a repair's if unknown)."""
    labels = DEFAULT_CHECKLISTS.get(work_order_type, _REPAIR)
    return [ChecklistItem(label=label) for label in labels]
