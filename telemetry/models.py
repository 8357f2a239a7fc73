"""Telemetry tables: devices, the readings hypertable, rollups, dead letters.

Rules, alerts and health live in their own modules' tables (telemetry/rules, alerts, health).
"""

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
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Device(Base):
    """The MQTT identity of a reporting asset. `key` is its username and topic segment."""

    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'revoked')", name="status"),
        CheckConstraint("key ~ '^[a-z0-9][a-z0-9_-]{2,62}$'", name="key_format"),
        # one reporting identity per asset at a time; revoked ones stay for history
        Index(
            "uq_devices_active_asset",
            "asset_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    # Mosquitto's $7$ PBKDF2 hash: the broker's password file is rebuilt from these rows.
    secret_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=DeviceStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]


class Reading(Base):
    """One message's readings (a TimescaleDB hypertable on ts, chunks of one day).

    Wide rows: `values[position]` holds the metric at that position of the product model
    (NULL where the device did not send it). The identity of a reading is (device, seq, ts):
    a redelivered or repeated message conflicts and is not stored twice.
    """

    __tablename__ = "readings"

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    values: Mapped[list[float | None]] = mapped_column(ARRAY(Double))


class _Rollup:
    """Mergeable aggregates of one metric of one device over one bucket."""

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(primary_key=True)
    n: Mapped[int]
    total: Mapped[float] = mapped_column(Double)
    low: Mapped[float] = mapped_column(Double)
    high: Mapped[float] = mapped_column(Double)
    last_ts: Mapped[datetime]
    last: Mapped[float] = mapped_column(Double)


class RollupMinute(_Rollup, Base):
    """1-minute buckets, kept as long as the raw readings; charts up to a few days read these."""

    __tablename__ = "readings_1m"


class RollupHour(_Rollup, Base):
    """1-hour buckets, kept for years; long charts and health trends read these."""

    __tablename__ = "readings_1h"


class DeadLetter(Base):
    """A message (or one reading of a batch) refused by ingest, kept with the reason."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_device_key_received_at", "device_key", "received_at"),
        Index("ix_dead_letters_reason_received_at", "reason", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    topic: Mapped[str] = mapped_column(String(255))
    device_key: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int]
