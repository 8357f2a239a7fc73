"""Rebate programs as staff define them: create with tiers, list, and a program's periods."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import InvalidInput, NotFound
from crm.audit import CREATE, record_change
from partner_portal.access import require_finance
from partner_portal.models import (
    Calculation,
    Growth,
    Measure,
    PeriodKind,
    RebateProgram,
    RebateStatement,
    RebateTier,
)
from partner_portal.settlement import period_end_exclusive


@dataclass(frozen=True, slots=True)
class TierInput:
    """One band as typed into the form: [lower, upper) at rate percent."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    """One period of a program and how far its settlement got."""

    start: date
    end: date
    statements: int
    by_status: dict[str, int]
    ended: bool
    # "first" (never settled), "again" (adds distributors without a statement) or None
    run: str | None = None
    # the later period of the same year whose true-up already includes this one
    blocked_by: date | None = None


def create_program(
    session: Session,
    *,
    actor: Principal,
    name: str,
    period_kind: PeriodKind,
    measure: Measure,
    calculation: Calculation,
    growth: Growth,
    currency: str,
    product_family: str | None,
    tiers: Sequence[TierInput],
) -> RebateProgram:
    """A new program with its bands (finance only); the bands must not overlap."""
    require_finance(actor, to="define a rebate program")
    if not name.strip():
        raise InvalidInput("Give the program a name.", code="program_name_missing")
    if not tiers:
        raise InvalidInput("Add at least one band.", code="program_tiers_missing")
    if calculation is Calculation.INCREMENTAL and measure is not Measure.NET_VALUE:
        raise InvalidInput(
            "An incremental program measures net value.", code="program_incremental_quantity"
        )
    ordered = sorted(tiers, key=lambda t: t.lower)
    for band, following in pairwise(ordered):
        if band.upper is None or band.upper > following.lower:
            raise InvalidInput(
                f"The band from {band.lower} overlaps the one from {following.lower}.",
                code="program_tiers_overlap",
            )
    for band in ordered:
        if band.lower < 0 or not 0 <= band.rate <= 100:
            raise InvalidInput("Bounds start at 0; rates are 0 to 100 %.", code="program_band")
        if band.upper is not None and band.upper <= band.lower:
            raise InvalidInput("A band's upper bound is above its lower.", code="program_band")
    program = RebateProgram(
        name=name.strip(),
        period_kind=period_kind,
        measure=measure,
        calculation=calculation,
        growth=growth,
        currency=currency,
        product_family=product_family or None,
    )
    session.add(program)
    session.flush()
    session.add_all(
        RebateTier(program_id=program.id, lower_bound=b.lower, upper_bound=b.upper, rate=b.rate)
        for b in ordered
    )
    session.flush()
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity=RebateProgram.__tablename__,
        entity_id=program.id,
        before=None,
        after={"name": program.name, "bands": len(ordered), "currency": currency},
    )
    return program


def list_programs(session: Session) -> list[RebateProgram]:
    """Every program by name."""
    return list(session.scalars(select(RebateProgram).order_by(RebateProgram.name)))


def get_program(session: Session, program_id: int) -> RebateProgram:
    """One program, or NotFound."""
    program = session.get(RebateProgram, program_id)
    if program is None:
        raise NotFound(f"No rebate program {program_id}.", entity="rebate_program")
    return program


def program_tiers(session: Session, program_id: int) -> list[RebateTier]:
    """A program's bands, lowest first."""
    return list(
        session.scalars(
            select(RebateTier)
            .where(RebateTier.program_id == program_id)
            .order_by(RebateTier.lower_bound)
        )
    )


def program_periods(
    session: Session, program: RebateProgram, *, today: date
) -> list[PeriodSummary]:
    """This year's and last year's periods up to the current one, newest first."""
    counts: dict[date, dict[str, int]] = {}
    rows = session.execute(
        select(RebateStatement.period_start, RebateStatement.status, func.count())
        .where(RebateStatement.program_id == program.id)
        .group_by(RebateStatement.period_start, RebateStatement.status)
    )
    for start, status, count in rows:
        counts.setdefault(start, {})[status] = count
    kind = PeriodKind(program.period_kind)
    periods = []
    start = date(today.year - 1, 1, 1)
    while start <= today:
        end = period_end_exclusive(kind, start)
        by_status = counts.get(start, {})
        later = min((s for s in counts if start < s and s.year == start.year), default=None)
        ended = end <= today
        run = None if not ended or later is not None else ("again" if by_status else "first")
        periods.append(
            PeriodSummary(
                start=start,
                end=date.fromordinal(end.toordinal() - 1),
                statements=sum(by_status.values()),
                by_status=by_status,
                ended=ended,
                run=run,
                blocked_by=later,
            )
        )
        start = end
    return periods[::-1]
