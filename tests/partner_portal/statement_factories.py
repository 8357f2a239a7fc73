"""Builders for statement, dashboard and portal tests: a settled program and a logged-in partner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from core.auth.principal import Principal
from crm.models import Organization, OrgKind, ProductModel, User
from partner_portal.models import DistributorProfile, RebateStatement, TierRule
from partner_portal.settlement import approve_statement, issue_statement, settle
from tests.crm.factories import make_org, make_product_model, make_user, principal_of
from tests.partner_portal.factories import add_pickup, make_distributor, make_program

PUBLIC_URL = "https://crm.example"
Q1 = date(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class Settled:
    """One distributor's statement of Q1 2026, with the people around it."""

    distributor: Organization
    partner: User
    product: ProductModel
    runner: Principal
    finance: Principal
    statement: RebateStatement


def make_finance(db: Session) -> Principal:
    return principal_of(make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER)))


def make_profile(db: Session, distributor: Organization, tier: str = "silver") -> None:
    db.add(DistributorProfile(org_id=distributor.id, tier=tier, region="Alps"))
    db.flush()


def set_tier_rules(db: Session, gold: str = "20000", platinum: str = "50000") -> None:
    """Silver from 0, gold and platinum from these trailing net values (EUR)."""
    for tier, minimum in (("silver", "0"), ("gold", gold), ("platinum", platinum)):
        db.merge(TierRule(tier=tier, min_net_value=Decimal(minimum), currency="EUR"))
    db.flush()


def settled_statement(
    db: Session,
    *,
    net_values: tuple[str, ...] = ("6000", "6000"),
    issue: bool = True,
    maker: Organization | None = None,
) -> Settled:
    """A quarterly program settled for Q1 (approved and, by default, issued)."""
    distributor = make_distributor(db)
    partner = make_user(db, org=distributor)
    product = make_product_model(db, manufacturer=maker)
    program = make_program(db)
    for day, value in enumerate(net_values, start=1):
        add_pickup(
            db,
            distributor=distributor,
            product=product,
            picked_on=date(2026, 2, day),
            net_value=value,
        )
    runner, finance = make_finance(db), make_finance(db)
    (statement,) = settle(db, actor=runner, program_id=program.id, period_start=Q1)
    approve_statement(db, actor=finance, statement_id=statement.id)
    if issue:
        issue_statement(db, actor=finance, statement_id=statement.id, public_url=PUBLIC_URL)
    return Settled(distributor, partner, product, runner, finance, statement)
