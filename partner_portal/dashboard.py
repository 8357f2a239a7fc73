"""A distributor's dashboard: year-to-date pickups, accrued rebates, tier and monthly chart.

Sums come from SQL (three grouped queries); the rebate of each program is the pure
`rebates.true_up` on those sums. Amounts are in the dashboard currency: the tier rules'
currency, else the distributor's most used one, else EUR.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, extract, func, or_, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from crm.models import ProductModel
from partner_portal.access import get_distributor, require_staff_or_own_distributor
from partner_portal.models import (
    DistributorProfile,
    Growth,
    Measure,
    PickupLine,
    RebateProgram,
    RebateStatement,
    Tier,
    TierRule,
)
from partner_portal.rebates import tier_rate, to_next_tier, true_up
from partner_portal.settlement import program_terms

DEFAULT_CURRENCY = "EUR"
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ProgramStanding:
    """Where a distributor stands in one program this year."""

    program_id: int
    name: str
    measure: str
    currency: str
    ytd_measure: Decimal
    prior_ytd_measure: Decimal | None
    accrued: Decimal
    rate: Decimal
    to_next_band: Decimal | None
    settled: Decimal


@dataclass(frozen=True, slots=True)
class TierStanding:
    """The partner tier, the trailing 12 months' net value and what the next tier needs."""

    tier: str
    trailing_net_value: Decimal
    next_tier: str | None
    to_next_tier: Decimal | None


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the distributor's landing page shows."""

    distributor_org_id: int
    distributor: str
    as_of: date
    currency: str
    ytd_net_value: Decimal
    ytd_quantity: Decimal
    programs: list[ProgramStanding]
    tier: TierStanding
    months: list[int]
    this_year: list[Decimal]
    last_year: list[Decimal]


def distributor_dashboard(
    session: Session, *, actor: Principal, distributor_org_id: int, today: date
) -> Dashboard:
    """The dashboard of one distributor as of `today` (staff, or that distributor's users)."""
    require_staff_or_own_distributor(actor, distributor_org_id)
    org = get_distributor(session, distributor_org_id)
    currency = dashboard_currency(session, distributor_org_id)
    figures = pickup_figures(session, distributor_org_id, currency, today)
    return Dashboard(
        distributor_org_id=org.id,
        distributor=org.name,
        as_of=today,
        currency=currency,
        ytd_net_value=figures.ytd_net_value,
        ytd_quantity=figures.ytd_quantity,
        programs=program_standings(session, distributor_org_id, today),
        tier=tier_standing(session, distributor_org_id, figures.trailing_net_value),
        months=list(range(1, 13)),
        this_year=figures.this_year,
        last_year=figures.last_year,
    )


@dataclass(frozen=True, slots=True)
class PickupFigures:
    """A distributor's pickups in one currency, as the dashboard sums them."""

    ytd_net_value: Decimal
    ytd_quantity: Decimal
    trailing_net_value: Decimal  # the 12 months up to and including today
    this_year: list[Decimal]  # per calendar month, as recorded
    last_year: list[Decimal]


def pickup_figures(
    session: Session, distributor_org_id: int, currency: str, today: date
) -> PickupFigures:
    """Year to date, trailing 12 months and the monthly chart in one pass over the
    distributor's last two calendar years (an index-only scan of the covering index)."""
    year_start = date(today.year, 1, 1)
    in_ytd = and_(PickupLine.picked_on >= year_start, PickupLine.picked_on <= today)
    in_trailing = and_(PickupLine.picked_on > _a_year_before(today), PickupLine.picked_on <= today)
    year_of = extract("year", PickupLine.picked_on)
    month_of = extract("month", PickupLine.picked_on)
    rows = session.execute(
        select(
            year_of,
            month_of,
            func.sum(PickupLine.net_value),
            _sum(PickupLine.net_value, in_ytd),
            _sum(PickupLine.quantity, in_ytd),
            _sum(PickupLine.net_value, in_trailing),
        )
        .where(
            PickupLine.distributor_org_id == distributor_org_id,
            PickupLine.currency == currency,
            PickupLine.picked_on >= date(today.year - 1, 1, 1),
            PickupLine.picked_on < date(today.year + 1, 1, 1),
        )
        .group_by(year_of, month_of)
    ).all()
    series = {today.year: [_ZERO] * 12, today.year - 1: [_ZERO] * 12}
    for row_year, row_month, total, *_ in rows:
        series[int(row_year)][int(row_month) - 1] = total
    return PickupFigures(
        ytd_net_value=sum((row[3] for row in rows), _ZERO),
        ytd_quantity=sum((row[4] for row in rows), _ZERO),
        trailing_net_value=sum((row[5] for row in rows), _ZERO),
        this_year=series[today.year],
        last_year=series[today.year - 1],
    )


def dashboard_currency(session: Session, distributor_org_id: int) -> str:
    """The tier rules' currency, else the distributor's most used, else EUR."""
    rule_currency = session.scalars(select(TierRule.currency).limit(1)).first()
    if rule_currency is not None:
        return rule_currency
    used = session.scalars(
        select(PickupLine.currency)
        .where(PickupLine.distributor_org_id == distributor_org_id)
        .group_by(PickupLine.currency)
        .order_by(func.count().desc(), PickupLine.currency)
        .limit(1)
    ).first()
    return used or DEFAULT_CURRENCY


def program_standings(
    session: Session, distributor_org_id: int, today: date
) -> list[ProgramStanding]:
    """Each program's YTD measure, accrued rebate, band and settled amount (one query)."""
    year_start = date(today.year, 1, 1)
    prior_start, prior_end = _a_year_before(year_start), _a_year_before(today)
    measure = case(
        (RebateProgram.measure == Measure.QUANTITY.value, PickupLine.quantity),
        else_=PickupLine.net_value,
    )
    in_ytd = and_(PickupLine.picked_on >= year_start, PickupLine.picked_on <= today)
    in_prior = and_(PickupLine.picked_on >= prior_start, PickupLine.picked_on <= prior_end)
    settled = (
        select(func.coalesce(func.sum(RebateStatement.payout), 0))
        .where(
            RebateStatement.program_id == RebateProgram.id,
            RebateStatement.distributor_org_id == distributor_org_id,
            RebateStatement.period_start >= year_start,
            RebateStatement.period_start <= today,
        )
        .scalar_subquery()
    )
    counted = and_(
        PickupLine.distributor_org_id == distributor_org_id,
        PickupLine.currency == RebateProgram.currency,
        or_(in_ytd, in_prior),
        or_(
            RebateProgram.product_family.is_(None),
            ProductModel.family == RebateProgram.product_family,
        ),
    )
    rows = session.execute(
        select(
            RebateProgram,
            _sum(measure, in_ytd),
            _sum(measure, in_prior),
            _sum(PickupLine.net_value, in_ytd),
            _sum(PickupLine.net_value, in_prior),
            settled,
        )
        .select_from(RebateProgram)
        .outerjoin(
            PickupLine.__table__.join(
                ProductModel.__table__, ProductModel.id == PickupLine.product_model_id
            ),
            counted,
        )
        .group_by(RebateProgram.id)
        .order_by(RebateProgram.name, RebateProgram.id)
    ).all()
    return [_standing(session, *row) for row in rows]


def _standing(
    session: Session,
    program: RebateProgram,
    ytd: Decimal,
    prior_ytd: Decimal,
    ytd_value: Decimal,
    prior_value: Decimal,
    settled: Decimal,
) -> ProgramStanding:
    terms = program_terms(session, program)
    by_quantity = program.measure == Measure.QUANTITY
    result = true_up(
        terms,
        ytd_measure=ytd,
        prior_ytd_measure=prior_ytd,
        ytd_value=ytd_value if by_quantity else None,
        prior_ytd_value=prior_value,
        previously_settled=settled,
    )
    growth = program.growth != Growth.NONE
    return ProgramStanding(
        program_id=program.id,
        name=program.name,
        measure=program.measure,
        currency=program.currency,
        ytd_measure=ytd,
        prior_ytd_measure=prior_ytd if growth else None,
        accrued=result.ytd_rebate,
        rate=tier_rate(terms.tiers, result.rated_measure),
        to_next_band=to_next_tier(terms.tiers, result.rated_measure),
        settled=settled,
    )


def trailing_net_value(
    session: Session, distributor_org_id: int, period_end: date, currency: str
) -> Decimal:
    """Net value of pickups in the 12 months up to and including `period_end`."""
    value = session.scalar(
        select(func.coalesce(func.sum(PickupLine.net_value), 0)).where(
            PickupLine.distributor_org_id == distributor_org_id,
            PickupLine.currency == currency,
            PickupLine.picked_on > _a_year_before(period_end),
            PickupLine.picked_on <= period_end,
        )
    )
    return value if value is not None else _ZERO


def tier_standing(session: Session, distributor_org_id: int, trailing: Decimal) -> TierStanding:
    """The current tier and how much trailing net value the next higher tier needs."""
    profile = session.get(DistributorProfile, distributor_org_id)
    tier = profile.tier if profile is not None else Tier.SILVER.value
    rules = list(session.scalars(select(TierRule).order_by(TierRule.min_net_value)))
    order = [t.value for t in Tier]
    higher = [r for r in rules if order.index(r.tier) > order.index(tier)]
    if not higher:
        return TierStanding(tier, trailing, None, None)
    reached = [r for r in higher if trailing >= r.min_net_value]
    if reached:  # promoted at the next review: name the highest tier reached, nothing missing
        best = max(reached, key=lambda rule: order.index(rule.tier))
        return TierStanding(tier, trailing, best.tier, _ZERO)
    nearest = min(higher, key=lambda rule: order.index(rule.tier))
    return TierStanding(tier, trailing, nearest.tier, nearest.min_net_value - trailing)


def chart_data(dashboard: Dashboard) -> dict[str, Any]:
    """The monthly chart as JSON for the page's script (numbers, not strings)."""
    return {
        "months": dashboard.months,
        "month_names": [calendar.month_abbr[m] for m in dashboard.months],
        "currency": dashboard.currency,
        "year": dashboard.as_of.year,
        "this_year": [float(v) for v in dashboard.this_year],
        "last_year": [float(v) for v in dashboard.last_year],
    }


def _sum(column: Any, condition: ColumnElement[bool]) -> ColumnElement[Decimal]:
    return func.coalesce(func.sum(column).filter(condition), 0)


def _a_year_before(day: date) -> date:
    # 29 February goes back to 28 February
    return (
        day.replace(year=day.year - 1, day=28)
        if (day.month, day.day) == (2, 29)
        else (day.replace(year=day.year - 1))
    )
