"""Service-order tables: engineers and their skills and shifts, work orders and their events,
dispatch decisions and offers, preventive-maintenance plans, service contracts (SLA tiers)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geography, WKBElement, WKTElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow
from crm.geo import SRID_WGS84

_POINT = Geography(geometry_type="POINT", srid=SRID_WGS84, spatial_index=False)


class EngineerStatus(StrEnum):
    AVAILABLE = "available"
    ON_JOB = "on_job"
    OFF_SHIFT = "off_shift"


class Engineer(Base):
    """A service engineer (a user with role engineer): base, live location, capacity."""

    __tablename__ = "engineers"
    __table_args__ = (
        CheckConstraint("status IN ('available', 'on_job', 'off_shift')", name="status"),
        CheckConstraint("max_concurrent_jobs > 0", name="capacity"),
        # KNN (<->) over where engineers are now: dispatch ranks by it
        Index("ix_engineers_location", "location", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    home_base: Mapped[WKBElement | WKTElement] = mapped_column(_POINT)
    # where the engineer is now (the home base until the phone reports)
    location: Mapped[WKBElement | WKTElement] = mapped_column(_POINT)
    location_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=EngineerStatus.AVAILABLE)
    max_concurrent_jobs: Mapped[int] = mapped_column(SmallInteger, default=2)
    # Mosquitto hash of the phone's secret (broker user eng-<id>); NULL = no MQTT account
    mqtt_secret_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class EngineerSkill(Base):
    """What an engineer may work on: a product family at a level, with a certificate."""

    __tablename__ = "engineer_skills"
    __table_args__ = (
        UniqueConstraint("engineer_id", "family"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    family: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(SmallInteger)
    certified_until: Mapped[date | None] = mapped_column(Date)


class Shift(Base):
    """One working period of an engineer (half-open: starts_at <= t < ends_at)."""

    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="order"),
        Index("ix_shifts_engineer_id_starts_at", "engineer_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class ServiceContract(Base):
    """A customer's contract tier: how fast we must respond and resolve."""

    __tablename__ = "service_contracts"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(32))
    respond_hours: Mapped[int] = mapped_column(SmallInteger)
    resolve_hours: Mapped[int] = mapped_column(SmallInteger)


class WorkOrderType(StrEnum):
    PREVENTIVE = "preventive"
    PREDICTIVE = "predictive"
    CORRECTIVE = "corrective"
    INSPECTION = "inspection"
    INSTALLATION = "installation"


class WorkOrderSource(StrEnum):
    ALERT = "alert"
    PM_PLAN = "pm_plan"
    CUSTOMER_REQUEST = "customer_request"
    MANUAL = "manual"


class WorkOrder(Base):
    """A job on one asset, from an alert, a PM plan, a customer or a dispatcher."""

    __tablename__ = "work_orders"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 4", name="priority"),
        CheckConstraint("respond_by <= resolve_by", name="sla_order"),
        # one work order per alert, enforced here: two workers consuming alerts meet in it
        UniqueConstraint("alert_id"),
        # one work order per PM plan occurrence
        UniqueConstraint("pm_plan_id", "asset_id", "pm_due_on"),
        Index("ix_work_orders_status_respond_by", "status", "respond_by"),
        Index("ix_work_orders_asset_id_created_at", "asset_id", "created_at"),
        Index("ix_work_orders_engineer_id_status", "engineer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(24))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    alert_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("alerts.id"))
    pm_plan_id: Mapped[int | None] = mapped_column(ForeignKey("pm_plans.id"))
    pm_due_on: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    required_family: Mapped[str] = mapped_column(String(64))
    required_level: Mapped[int] = mapped_column(SmallInteger, default=1)
    respond_by: Mapped[datetime]
    resolve_by: Mapped[datetime]
    due_by: Mapped[datetime | None]  # predictive: before the predicted failure
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"))
    overdue_since: Mapped[datetime | None]
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    on_site_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    time_on_site_s: Mapped[int | None] = mapped_column(Integer)
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    signed_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class WorkOrderEvent(Base):
    """Every transition of a work order, timestamped, with who made it and why."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class WorkOrderPhoto(Base):
    """A photo taken on site (type and size checked; stored under a server-made name)."""

    __tablename__ = "work_order_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class DispatchDecision(Base):
    """Why a work order went to whom: every candidate with its score or exclusion."""

    __tablename__ = "dispatch_decisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"))
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    escalated: Mapped[bool] = mapped_column(default=False)


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class DispatchOffer(Base):
    """A work order offered to one engineer, who accepts or declines before it expires."""

    __tablename__ = "dispatch_offers"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')", name="status"
        ),
        # one open offer per work order at a time
        Index(
            "uq_dispatch_offers_pending_work_order",
            "work_order_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_dispatch_offers_engineer_id_status", "engineer_id", "status"),
        # who already had this order (never offered it again)
        Index("ix_dispatch_offers_work_order_id_engineer_id", "work_order_id", "engineer_id"),
        Index("ix_dispatch_offers_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id"))
    decision_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("dispatch_decisions.id"))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.PENDING)
    published_at: Mapped[datetime | None]  # when the MQTT message left (after commit)


class PmPlan(Base):
    """Preventive maintenance every N days or every N runtime hours, per model or asset."""

    __tablename__ = "pm_plans"
    __table_args__ = (
        CheckConstraint("kind IN ('calendar', 'meter')", name="kind"),
        CheckConstraint(
            "(kind = 'calendar' AND every_days > 0) OR (kind = 'meter' AND every_hours > 0)",
            name="interval",
        ),
        CheckConstraint("(product_model_id IS NULL) <> (asset_id IS NULL)", name="scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    product_model_id: Mapped[int | None] = mapped_column(ForeignKey("product_models.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    kind: Mapped[str] = mapped_column(String(16))
    every_days: Mapped[int | None] = mapped_column(SmallInteger)
    every_hours: Mapped[int | None] = mapped_column(Integer)
    horizon_days: Mapped[int] = mapped_column(SmallInteger, default=14)
    required_level: Mapped[int] = mapped_column(SmallInteger, default=1)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class ServiceCertificate(Base):
    """The signed service report of a completed work order, as issued (PDF) and anchored.

    `id` is public (it is in the report's QR code) and random, so reports cannot be counted.
    """

    __tablename__ = "service_certificates"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    anchor_request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("anchor_requests.id"))
    # the letterheads printed on the report, as they were at issue
    issuer_profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("company_profile_snapshots.id")
    )
    recipient_profile_id: Mapped[str | None] = mapped_column(
        ForeignKey("company_profile_snapshots.id")
    )


class CertificateFailure(Base):
    """A completed work order whose service report could not be made: why, how often, and when
    the worker tries again. The row goes once the report is issued."""

    __tablename__ = "certificate_failures"

    work_order_id: Mapped[int] = mapped_column(
        ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True
    )
    attempts: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str] = mapped_column(Text)  # in words, for staff
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    # None once the worker gave up: the failure stays on the board until a retry by hand
    next_attempt_at: Mapped[datetime | None]
