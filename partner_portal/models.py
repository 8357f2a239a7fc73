"""Partner-portal tables: distributor profiles, pickup lines, rebate programs with their tiers,
rebate statements and the lines that made them up."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

_MONEY = Numeric(14, 2)
_MEASURE = Numeric(18, 3)
_CURRENCY_CHECK = "currency ~ '^[A-Z]{3}$'"


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Tier(StrEnum):
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Measure(StrEnum):
    NET_VALUE = "net_value"
    QUANTITY = "quantity"


class Calculation(StrEnum):
    RETROACTIVE = "retroactive"
    INCREMENTAL = "incremental"


class Growth(StrEnum):
    NONE = "none"
    ON_INCREMENT = "on_increment"
    ON_TOTAL = "on_total"


class StatementStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ISSUED = "issued"
    PAID = "paid"


class DistributorProfile(Base):
    """A distributor organisation's partner data: tier and region."""

    __tablename__ = "distributor_profiles"
    __table_args__ = (CheckConstraint(_one_of("tier", Tier), name="tier"),)

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16), default=Tier.SILVER)
    region: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class PickupLine(Base):
    """Goods a distributor took from the manufacturer; a return is a negative quantity."""

    __tablename__ = "pickup_lines"
    __table_args__ = (
        # a document line is recorded once: a re-sent ERP export or CSV is refused
        UniqueConstraint("distributor_org_id", "document_number", "line_no"),
        Index("ix_pickup_lines_distributor_picked_on", "distributor_org_id", "picked_on"),
        CheckConstraint(_CURRENCY_CHECK, name="currency"),
        CheckConstraint("line_no > 0", name="line_no_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    distributor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    picked_on: Mapped[date] = mapped_column(Date)
    product_model_id: Mapped[int] = mapped_column(ForeignKey("product_models.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(_MEASURE)
    net_value: Mapped[Decimal] = mapped_column(_MONEY)
    currency: Mapped[str] = mapped_column(CHAR(3))
    document_number: Mapped[str] = mapped_column(String(64))
    line_no: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class RebateProgram(Base):
    """A rebate program as data; how it computes is in partner_portal.rebates."""

    __tablename__ = "rebate_programs"
    __table_args__ = (
        CheckConstraint(_one_of("period_kind", PeriodKind), name="period_kind"),
        CheckConstraint(_one_of("measure", Measure), name="measure"),
        CheckConstraint(_one_of("calculation", Calculation), name="calculation"),
        CheckConstraint(_one_of("growth", Growth), name="growth"),
        CheckConstraint(_CURRENCY_CHECK, name="currency"),
        CheckConstraint("cap_measure IS NULL OR cap_measure >= 0", name="cap_measure"),
        CheckConstraint("cap_payout IS NULL OR cap_payout >= 0", name="cap_payout"),
        # marginal bands of a quantity cannot be priced: the rebate base is the net value
        CheckConstraint(
            "calculation = 'retroactive' OR measure = 'net_value'", name="incremental_on_value"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    period_kind: Mapped[str] = mapped_column(String(16))
    measure: Mapped[str] = mapped_column(String(16))
    product_family: Mapped[str | None] = mapped_column(String(64))
    calculation: Mapped[str] = mapped_column(String(16))
    growth: Mapped[str] = mapped_column(String(16), default=Growth.NONE)
    cap_measure: Mapped[Decimal | None] = mapped_column(_MEASURE)
    cap_payout: Mapped[Decimal | None] = mapped_column(_MONEY)
    currency: Mapped[str] = mapped_column(CHAR(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class RebateTier(Base):
    """One band of a program: [lower_bound, upper_bound) earns rate percent."""

    __tablename__ = "rebate_tiers"
    __table_args__ = (
        UniqueConstraint("program_id", "lower_bound"),
        CheckConstraint("lower_bound >= 0", name="lower_bound"),
        CheckConstraint("upper_bound IS NULL OR upper_bound > lower_bound", name="half_open"),
        CheckConstraint("rate >= 0 AND rate <= 100", name="rate_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("rebate_programs.id", ondelete="CASCADE"))
    lower_bound: Mapped[Decimal] = mapped_column(_MEASURE)
    upper_bound: Mapped[Decimal | None] = mapped_column(_MEASURE)
    rate: Mapped[Decimal] = mapped_column(Numeric(7, 4))


class RebateStatement(Base):
    """One distributor's settlement of one program period; at most one per period."""

    __tablename__ = "rebate_statements"
    __table_args__ = (
        # two settlement runs, even concurrent ones, give one statement
        UniqueConstraint("distributor_org_id", "program_id", "period_start"),
        CheckConstraint(_one_of("status", StatementStatus), name="status"),
        CheckConstraint(_CURRENCY_CHECK, name="currency"),
        CheckConstraint("period_end >= period_start", name="period"),
        Index("ix_rebate_statements_program_id_period_start", "program_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("rebate_programs.id"))
    period_start: Mapped[date] = mapped_column(Date)
    # the last day of the period, inclusive
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=StatementStatus.DRAFT)
    measure: Mapped[Decimal] = mapped_column(_MEASURE)
    ytd_measure: Mapped[Decimal] = mapped_column(_MEASURE)
    prior_ytd_measure: Mapped[Decimal] = mapped_column(_MEASURE)
    ytd_rebate: Mapped[Decimal] = mapped_column(_MONEY)
    previously_settled: Mapped[Decimal] = mapped_column(_MONEY)
    payout: Mapped[Decimal] = mapped_column(_MONEY)
    currency: Mapped[str] = mapped_column(CHAR(3))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    anchor_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("anchor_requests.id"))


class RebateStatementLine(Base):
    """What made a statement up: the period's pickups of one product model."""

    __tablename__ = "rebate_statement_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("rebate_statements.id", ondelete="CASCADE"), index=True
    )
    product_model_id: Mapped[int] = mapped_column(ForeignKey("product_models.id"))
    quantity: Mapped[Decimal] = mapped_column(_MEASURE)
    net_value: Mapped[Decimal] = mapped_column(_MONEY)
    line_count: Mapped[int]
