"""Builders of partner-portal records for tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from crm.models import Organization, OrgKind, ProductModel
from partner_portal.models import (
    Calculation,
    Growth,
    Measure,
    PeriodKind,
    PickupLine,
    RebateProgram,
    RebateTier,
)
from tests.crm.factories import make_org

_documents = itertools.count(1)


def make_distributor(db: Session) -> Organization:
    return make_org(db, kind=OrgKind.DISTRIBUTOR)


def make_program(
    db: Session,
    *,
    tiers: Sequence[tuple[str, str | None, str]] = (("0", "10000", "1"), ("10000", None, "2")),
    period_kind: PeriodKind = PeriodKind.QUARTER,
    measure: Measure = Measure.NET_VALUE,
    calculation: Calculation = Calculation.RETROACTIVE,
    growth: Growth = Growth.NONE,
    product_family: str | None = None,
    currency: str = "EUR",
) -> RebateProgram:
    program = RebateProgram(
        name="Volume rebate",
        period_kind=period_kind,
        measure=measure,
        calculation=calculation,
        growth=growth,
        product_family=product_family,
        currency=currency,
    )
    db.add(program)
    db.flush()
    for lower, upper, rate in tiers:
        db.add(
            RebateTier(
                program_id=program.id,
                lower_bound=Decimal(lower),
                upper_bound=None if upper is None else Decimal(upper),
                rate=Decimal(rate),
            )
        )
    db.flush()
    return program


def add_pickup(
    db: Session,
    *,
    distributor: Organization,
    product: ProductModel,
    picked_on: date,
    net_value: str,
    quantity: str = "1",
    currency: str = "EUR",
) -> PickupLine:
    line = PickupLine(
        distributor_org_id=distributor.id,
        picked_on=picked_on,
        product_model_id=product.id,
        quantity=Decimal(quantity),
        net_value=Decimal(net_value),
        currency=currency,
        document_number=f"DOC-{next(_documents)}",
        line_no=1,
    )
    db.add(line)
    db.flush()
    return line
