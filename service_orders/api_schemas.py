"""Request and response bodies of the service-order JSON API beyond the service schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service_orders.kpis import PeriodKpis
from service_orders.queries import BoardAsset, QueueItem, health_band
from service_orders.schemas import Outcome


class CompleteRequest(BaseModel):
    """Finish a visit: outcome, who signed, and the signature as a PNG data URL or base64."""

    outcome: Outcome
    signed_by: str = Field(min_length=1, max_length=200)
    signature_png: str = Field(min_length=1, max_length=400_000)
    notes: str = Field(default="", max_length=10_000)


class DeclineRequest(BaseModel):
    reason: str = Field(default="", max_length=500)


class AssignRequest(BaseModel):
    engineer_id: int


class LocationIn(BaseModel):
    """Where the engineer's phone is; `at` defaults to the time the server received it."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    at: datetime | None = None


class OfferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    work_order_id: int
    engineer_id: int
    status: str
    offered_at: datetime
    expires_at: datetime
    answered_at: datetime | None


class DecisionRead(BaseModel):
    """A dispatch decision: every candidate's score or the constraints that excluded them."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    work_order_id: int
    decided_at: datetime
    engineer_id: int | None
    escalated: bool
    candidates: list[dict[str, Any]]


class PhotoRead(BaseModel):
    id: int
    work_order_id: int
    content_type: str
    size: int
    uploaded_at: datetime
    url: str


class BoardAssetRead(BaseModel):
    id: int
    serial: str
    site_name: str
    lat: float
    lon: float
    health: int | None
    health_band: str
    open_orders: int

    @classmethod
    def of(cls, asset: BoardAsset) -> BoardAssetRead:
        return cls(
            id=asset.id, serial=asset.serial, site_name=asset.site_name, lat=asset.lat,
            lon=asset.lon, health=asset.health, health_band=health_band(asset.health),
            open_orders=asset.open_orders,
        )  # fmt: skip


class BoardEngineerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    status: str  # on_job while they hold a job, else available / off_shift
    activity: str  # the same in words: "on site", "on the way", "available", ...
    working_on: str
    lat: float
    lon: float
    location_at: datetime | None
    load: int
    capacity: int
    offers: int


class QueueItemRead(BaseModel):
    """A work order on the dispatch queue with its SLA clock (seconds; negative = late)."""

    work_order_id: int
    number: str
    title: str
    priority: int
    status: str
    serial: str
    site_name: str
    lat: float
    lon: float
    respond_by: datetime
    resolve_by: datetime
    seconds_left: int
    late: bool
    engineer_id: int | None
    offered_to: int | None
    decision: DecisionRead | None

    @classmethod
    def of(cls, item: QueueItem) -> QueueItemRead:
        w, p = item.work_order, item.place
        return cls(
            work_order_id=w.id, number=w.number, title=w.title, priority=w.priority,
            status=w.status, serial=p.serial, site_name=p.site_name, lat=p.lat, lon=p.lon,
            respond_by=w.respond_by, resolve_by=w.resolve_by, seconds_left=item.seconds_left,
            late=item.late, engineer_id=w.engineer_id, offered_to=item.offered_to,
            decision=DecisionRead.model_validate(item.decision) if item.decision else None,
        )  # fmt: skip


class BoardRead(BaseModel):
    """Everything the dispatch board draws."""

    assets: list[BoardAssetRead]
    engineers: list[BoardEngineerRead]
    queue: list[QueueItemRead]
    in_progress: list[QueueItemRead]


class KpiRead(BaseModel):
    """One period's KPIs; durations in seconds, shares in percent (null: nothing to judge)."""

    model_config = ConfigDict(from_attributes=True)

    start: datetime
    end: datetime
    label: str
    created: int
    completed: int
    mean_respond_s: float | None
    mean_repair_s: float | None
    respond_sla_pct: float | None
    resolve_sla_pct: float | None
    first_time_fix_pct: float | None

    @classmethod
    def of(cls, kpis: PeriodKpis) -> KpiRead:
        return cls.model_validate(kpis)
