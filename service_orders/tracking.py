"""What intake and PM planning remember: the alerts a work order covers, the last PM done."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class WorkOrderAlert(Base):
    """An alert a work order covers: the one that opened it, or a repeat on the same fault."""

    __tablename__ = "work_order_alerts"
    __table_args__ = (Index("ix_work_order_alerts_work_order_id", "work_order_id"),)

    # one work order per alert, also for repeats: two consumers meet in this key
    alert_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    # the alert's severity the work order's priority already reflects
    severity: Mapped[str] = mapped_column(String(16))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # when intake acted on the alert's clearing (cancel or downgrade), so it acts once
    clear_handled_at: Mapped[datetime | None]


class PmProgress(Base):
    """The last completed visit of a PM plan on one asset: its date and the hour meter."""

    __tablename__ = "pm_progress"

    pm_plan_id: Mapped[int] = mapped_column(
        ForeignKey("pm_plans.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), primary_key=True)
    last_done_on: Mapped[date] = mapped_column(Date)
    last_done_hours: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    last_work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
