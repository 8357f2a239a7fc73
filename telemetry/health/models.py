"""Health scores (current and over time) and the service meters they read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Integer, Numeric, SmallInteger, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class AssetServiceMeter(Base):
    """Runtime hours at the last service and the interval to the next one, per asset."""

    __tablename__ = "asset_service_meters"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), primary_key=True)
    last_service_runtime_hours: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    service_interval_hours: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    last_service_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AssetHealth(Base):
    """The current health score of an asset, with the contributors that explain it."""

    __tablename__ = "asset_health"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    contributors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    computed_at: Mapped[datetime]
    predicted_failure_at: Mapped[datetime | None]


class HealthScore(Base):
    """A past health score (a hypertable on ts): the history a chart draws."""

    __tablename__ = "health_scores"

    asset_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    contributors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
