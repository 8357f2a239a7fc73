"""Customer-side records: satisfaction surveys after a visit and health watches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class SatisfactionSurvey(Base):
    """A customer's rating of a completed work order: CSAT 1-5 and NPS 0-10, once per order."""

    __tablename__ = "satisfaction_surveys"
    __table_args__ = (
        UniqueConstraint("work_order_id"),
        CheckConstraint("csat BETWEEN 1 AND 5", name="csat"),
        CheckConstraint("nps BETWEEN 0 AND 10", name="nps"),
        Index("ix_satisfaction_surveys_engineer_id_submitted_at", "engineer_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    # copied from the work order at submission, so per-engineer results need no join
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"))
    customer_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    csat: Mapped[int] = mapped_column(SmallInteger)
    nps: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class HealthWatch(Base):
    """Notify `user_id` when a device's health drops below `threshold`; asset NULL = all of
    the user's organisation's devices."""

    __tablename__ = "health_watches"
    __table_args__ = (
        CheckConstraint("threshold BETWEEN 1 AND 100", name="threshold"),
        # one watch per user and device, and one for all devices (NULL is one value here)
        UniqueConstraint("user_id", "asset_id", postgresql_nulls_not_distinct=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    threshold: Mapped[int] = mapped_column(SmallInteger)
    # set when a notification went out; cleared when health recovers above the threshold
    triggered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
