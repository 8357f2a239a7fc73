"""Alerts and their lifecycle events: the durable hand-off to service_orders."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.labels import register_labels

ACTIVE_STATUSES = ("open", "acknowledged")


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


register_labels(
    "alert_status",
    {
        AlertStatus.OPEN: "Open",
        AlertStatus.ACKNOWLEDGED: "Acknowledged",
        AlertStatus.CLEARED: "Cleared",
    },
)


class ClearReason(StrEnum):
    CONDITION = "condition"
    MANUAL = "manual"
    SERVICE = "service"  # a service visit fixed the fault


register_labels(
    "clear_reason",
    {
        ClearReason.CONDITION: "back to normal",
        ClearReason.MANUAL: "cleared by hand",
        ClearReason.SERVICE: "fixed on a service visit",
    },
)


class Alert(Base):
    """A condition a rule raised on a device; at most one active per device and rule."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'acknowledged', 'cleared')", name="status"),
        CheckConstraint("severity IN ('warning', 'major', 'critical')", name="severity"),
        CheckConstraint("(status = 'cleared') = (cleared_at IS NOT NULL)", name="cleared_at"),
        # the database, not the code, guarantees one active alert per device and rule:
        # two messages ms apart or two ingest processes meet in this index
        Index(
            "uq_alerts_active_device_rule",
            "device_id",
            "rule_id",
            unique=True,
            postgresql_where=text("status IN ('open', 'acknowledged')"),
        ),
        Index("ix_alerts_asset_id_opened_at", "asset_id", "opened_at"),
        Index("ix_alerts_status_opened_at", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id"), index=True)
    metric_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    escalated_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cleared_at: Mapped[datetime | None]
    clear_reason: Mapped[str | None] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Double)
    message: Mapped[str] = mapped_column(Text)
    predicted_failure_at: Mapped[datetime | None]


class AlertEvent(Base):
    """One step of an alert's life (opened, escalated, acknowledged, cleared), in order."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    action: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str | None] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
