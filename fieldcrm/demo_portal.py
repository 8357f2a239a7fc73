"""The partner portal's demo history: tier rules, rebate programs, 15 months of pickups per
distributor, the current year's completed quarters settled (paid, issued, one still a draft).

Created through the service functions, deterministic (seeded RNG), run once by the demo seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.config import get_settings
from crm.models import Organization, OrgKind, ProductModel, User
from crm.service import principal_of
from partner_portal.models import (
    Calculation,
    DistributorProfile,
    Growth,
    Measure,
    PeriodKind,
    RebateProgram,
    RebateTier,
    TierRule,
)
from partner_portal.pickups import add_pickups
from partner_portal.schemas import PickupIn
from partner_portal.settlement import approve_statement, issue_statement, mark_paid, settle

# yearly pickups (EUR) a distributor of each tier takes, roughly
_VOLUME = {"silver": 4_000_000, "gold": 9_000_000, "platinum": 20_000_000}
_TIER_RULES = {"silver": "0", "gold": "6000000", "platinum": "15000000"}


def user(session: Session, local: str) -> Principal:
    """The principal of a demo user by the local part of their e-mail."""
    found = session.scalar(select(User).where(User.email.startswith(f"{local}@")))
    if found is None:
        raise LookupError(f"no demo user {local}")
    return principal_of(found)


def seed_portal(session: Session, rng: random.Random, *, today: date) -> None:
    """Tier rules, programs, pickups and settled quarters (up to `today`)."""
    for tier, minimum in _TIER_RULES.items():
        session.add(TierRule(tier=tier, min_net_value=Decimal(minimum), currency="EUR"))
    quarterly = _program(
        session,
        "Quarterly volume rebate",
        PeriodKind.QUARTER,
        Measure.NET_VALUE,
        Calculation.RETROACTIVE,
        [("0", "1500000", "1"), ("1500000", "4000000", "2"), ("4000000", None, "3")],
    )
    _program(
        session,
        "Compressor growth bonus",
        PeriodKind.YEAR,
        Measure.NET_VALUE,
        Calculation.INCREMENTAL,
        [("0", "500000", "2"), ("500000", None, "4")],
        growth=Growth.ON_INCREMENT,
        family="compressor",
        cap_payout=Decimal("25000"),
    )
    models = session.scalars(select(ProductModel).order_by(ProductModel.id)).all()
    distributors = session.execute(
        select(Organization, DistributorProfile)
        .join(DistributorProfile, DistributorProfile.org_id == Organization.id)
        .where(Organization.kind == OrgKind.DISTRIBUTOR)
        .order_by(Organization.id)
    ).all()
    start = date(today.year - 1, 9, 1)
    for org, profile in distributors:
        _pickups(session, rng, org, models, _VOLUME[profile.tier], start, today)
    _settle_quarters(session, quarterly, today)


def _program(
    session: Session,
    name: str,
    kind: PeriodKind,
    measure: Measure,
    calculation: Calculation,
    tiers: list[tuple[str, str | None, str]],
    *,
    growth: Growth = Growth.NONE,
    family: str | None = None,
    cap_payout: Decimal | None = None,
) -> RebateProgram:
    program = RebateProgram(
        name=name,
        period_kind=kind,
        measure=measure,
        calculation=calculation,
        growth=growth,
        product_family=family,
        cap_payout=cap_payout,
        currency="EUR",
    )
    session.add(program)
    session.flush()
    for lower, upper, rate in tiers:
        session.add(
            RebateTier(
                program_id=program.id,
                lower_bound=Decimal(lower),
                upper_bound=None if upper is None else Decimal(upper),
                rate=Decimal(rate),
            )
        )
    session.flush()
    return program


def _pickups(
    session: Session,
    rng: random.Random,
    org: Organization,
    models: Sequence[ProductModel],
    yearly: int,
    start: date,
    end: date,
) -> None:
    """Delivery documents of one or two lines, as often as the yearly volume needs; now and
    then a return (a negative line)."""
    prices = [model.list_price or Decimal("10000") for model in models]
    # a line is 1-3 units at 5-18% off list: its expected value, and days between documents
    line_value = float(sum(prices)) / len(prices) * 2 * 0.885
    mean_gap = 365 * line_value * 1.25 / yearly
    lines: list[PickupIn] = []
    day, number = start, 0
    while day < end:
        number += 1
        document = f"DN-{org.id:03d}-{day:%y%m%d}-{number:04d}"
        for line_no in range(1, 2 if rng.random() < 0.75 else 3):
            model = rng.choice(models)
            price = model.list_price or Decimal("10000")
            quantity = rng.randint(1, 3)
            discount = Decimal(str(round(rng.uniform(0.05, 0.18), 3)))
            sign = -1 if rng.random() < 0.04 else 1
            net = (quantity * price * (1 - discount)).quantize(Decimal("0.01"))
            lines.append(
                PickupIn(
                    picked_on=day,
                    product_code=model.code,
                    quantity=Decimal(sign * quantity),
                    net_value=sign * net,
                    currency="EUR",
                    document_number=document,
                    line_no=line_no,
                )
            )
        day += timedelta(days=max(1, round(mean_gap * rng.uniform(0.5, 1.5))))
    add_pickups(session, actor=user(session, "admin"), distributor_org_id=org.id, lines=lines)


def _settle_quarters(session: Session, program: RebateProgram, today: date) -> None:
    """Every completed quarter of this year: paid, except the last (issued, one left draft)."""
    admin, finance = user(session, "admin"), user(session, "finance")
    public_url = get_settings().resolved_public_url()
    quarters = [date(today.year, m, 1) for m in (1, 4, 7, 10) if date(today.year, m, 1) < today]
    completed = [q for q in quarters if q.replace(month=q.month + 2) < today.replace(day=1)]
    for index, quarter in enumerate(completed):
        last = index == len(completed) - 1
        statements = settle(session, actor=admin, program_id=program.id, period_start=quarter)
        for position, statement in enumerate(statements):
            if last and position == len(statements) - 1:
                continue  # waits for finance's approval in the demo
            approve_statement(session, actor=finance, statement_id=statement.id)
            issue_statement(
                session, actor=finance, statement_id=statement.id, public_url=public_url
            )
            if not last:
                mark_paid(session, actor=finance, statement_id=statement.id)
