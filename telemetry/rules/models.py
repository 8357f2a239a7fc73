"""Rules as data (per product model, overridable per asset) and their per-device state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow
from core.labels import register_labels


class RuleKind(StrEnum):
    THRESHOLD = "threshold"
    DURATION = "duration"
    RATE_OF_CHANGE = "rate_of_change"
    ANOMALY = "anomaly"
    TREND = "trend"


class Severity(StrEnum):
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"


register_labels(
    "rule_kind",
    {
        RuleKind.THRESHOLD: "Limit crossed",
        RuleKind.DURATION: "Out of limits too long",
        RuleKind.RATE_OF_CHANGE: "Changing too fast",
        RuleKind.ANOMALY: "Unusual reading",
        RuleKind.TREND: "Heading for a limit",
    },
)
register_labels(
    "severity",
    {Severity.WARNING: "Warning", Severity.MAJOR: "Major", Severity.CRITICAL: "Critical"},
)

SEVERITY_RANK = {Severity.WARNING: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}
SEVERITY_OF_RANK = {rank: severity for severity, rank in SEVERITY_RANK.items()}


class Rule(Base):
    """One rule on one metric of a product model; with asset_id it overrides for that asset.

    An asset rule replaces the model rule of the same metric and kind. Rules are disabled,
    never deleted, so alerts and states keep their meaning.
    """

    __tablename__ = "rules"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('threshold', 'duration', 'rate_of_change', 'anomaly', 'trend')",
            name="kind",
        ),
        CheckConstraint("severity IN ('warning', 'major', 'critical')", name="severity"),
        # one rule per metric and kind at each level: what makes "override" unambiguous
        # and lets two ingest processes install the defaults concurrently
        Index(
            "uq_rules_model_metric_kind",
            "product_model_id",
            "metric_key",
            "kind",
            unique=True,
            postgresql_where=text("asset_id IS NULL"),
        ),
        Index(
            "uq_rules_asset_metric_kind",
            "asset_id",
            "metric_key",
            "kind",
            unique=True,
            postgresql_where=text("asset_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_model_id: Mapped[int] = mapped_column(ForeignKey("product_models.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    metric_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class RuleState(Base):
    """What a rule remembers about one device between batches (and across restarts)."""

    __tablename__ = "rule_states"

    device_id: Mapped[int] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("rules.id", ondelete="CASCADE"), primary_key=True
    )
    # 0 = quiet, else the severity rank the rule is raising
    level: Mapped[int] = mapped_column(SmallInteger)
    last_ts: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
