"""What goes into and comes out of the work-order, intake and PM-plan services."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service_orders.models import WorkOrderSource, WorkOrderType

Outcome = Literal["fixed", "partially_fixed", "not_fixed"]


class ChecklistItem(BaseModel):
    """One step of a visit's checklist."""

    label: str = Field(min_length=1, max_length=200)
    done: bool = False
    note: str = Field(default="", max_length=1000)


class PartUsed(BaseModel):
    """A spare part fitted during a visit."""

    part_no: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=200)
    quantity: Decimal = Field(gt=0, max_digits=10, decimal_places=2)


class WorkOrderCreate(BaseModel):
    """A new work order; SLA dates and the required family are derived, not given."""

    type: WorkOrderType
    source: WorkOrderSource = WorkOrderSource.MANUAL
    asset_id: int
    priority: int = Field(default=3, ge=1, le=4)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    required_level: int = Field(default=1, ge=1, le=3)
    alert_id: int | None = None
    pm_plan_id: int | None = None
    pm_due_on: date | None = None
    due_by: datetime | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)


class WorkOrderRead(BaseModel):
    """A work order as the API and pages show it (no signature bytes)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    type: str
    source: str
    asset_id: int
    alert_id: int | None
    pm_plan_id: int | None
    pm_due_on: date | None
    priority: int
    status: str
    title: str
    description: str
    required_family: str
    required_level: int
    respond_by: datetime
    resolve_by: datetime
    due_by: datetime | None
    engineer_id: int | None
    overdue_since: datetime | None
    checklist: list[ChecklistItem]
    parts: list[PartUsed]
    notes: str
    on_site_at: datetime | None
    completed_at: datetime | None
    time_on_site_s: int | None
    signed_by: str | None
    outcome: str | None
    created_at: datetime
    updated_at: datetime


class WorkOrderEventRead(BaseModel):
    """One step in a work order's history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_user_id: int | None
    from_status: str | None
    to_status: str
    note: str


class TransitionRequest(BaseModel):
    """A request to move a work order to another status."""

    target: str
    note: str = Field(default="", max_length=2000)


class VisitUpdate(BaseModel):
    """What the engineer records during a visit; omitted fields stay as they are."""

    checklist: list[ChecklistItem] | None = None
    parts: list[PartUsed] | None = None
    notes: str | None = Field(default=None, max_length=10_000)


class PmPlanCreate(BaseModel):
    """A preventive-maintenance plan: every N days or every N runtime hours."""

    name: str = Field(min_length=1, max_length=200)
    product_model_id: int | None = None
    asset_id: int | None = None
    kind: Literal["calendar", "meter"]
    every_days: int | None = Field(default=None, gt=0, le=3650)
    every_hours: int | None = Field(default=None, gt=0)
    horizon_days: int = Field(default=14, ge=0, le=365)
    required_level: int = Field(default=1, ge=1, le=3)
    checklist: list[ChecklistItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_scope_and_matching_interval(self) -> PmPlanCreate:
        if (self.product_model_id is None) == (self.asset_id is None):
            raise ValueError("give either product_model_id or asset_id")
        if self.kind == "calendar" and self.every_days is None:
            raise ValueError("a calendar plan needs every_days")
        if self.kind == "meter" and self.every_hours is None:
            raise ValueError("a meter plan needs every_hours")
        return self


class PmPlanRead(BaseModel):
    """A PM plan as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    product_model_id: int | None
    asset_id: int | None
    kind: str
    every_days: int | None
    every_hours: int | None
    horizon_days: int
    required_level: int
    checklist: list[ChecklistItem]
    active: bool
