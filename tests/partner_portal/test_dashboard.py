"""The distributor dashboard's figures, computed by hand for a small history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from core.errors import PermissionDenied
from partner_portal.dashboard import distributor_dashboard
from partner_portal.settlement import settle
from tests.crm.factories import make_product_model, make_user, principal_of
from tests.partner_portal.factories import add_pickup, make_distributor, make_program
from tests.partner_portal.statement_factories import make_finance, make_profile, set_tier_rules

TODAY = date(2026, 5, 15)
BIG = "60000"  # past platinum (50 000) and gold (20 000)


def test_year_to_date_accrued_rebate_band_gap_and_tier_gap(db: Session) -> None:
    set_tier_rules(db)
    distributor = make_distributor(db)
    make_profile(db, distributor)
    product = make_product_model(db)
    program = make_program(db)  # quarterly: [0, 10 000) 1 %, [10 000, ∞) 2 %
    for picked_on, value in (
        (date(2025, 3, 1), "5000"),  # last year, before the trailing 12 months
        (date(2025, 6, 1), "4000"),  # last year, inside the trailing 12 months
        (date(2026, 2, 1), "6000"),  # Q1, settled
        (date(2026, 4, 10), "3000"),  # Q2, not settled yet
        (date(2026, 5, 20), "999"),  # after today: not counted
    ):
        add_pickup(
            db, distributor=distributor, product=product, picked_on=picked_on, net_value=value
        )
    add_pickup(
        db,
        distributor=distributor,
        product=product,
        picked_on=date(2026, 3, 1),
        net_value="1000",
        currency="USD",
    )
    settle(db, actor=make_finance(db), program_id=program.id, period_start=date(2026, 1, 1))
    partner = principal_of(make_user(db, org=distributor))

    d = distributor_dashboard(db, actor=partner, distributor_org_id=distributor.id, today=TODAY)

    assert d.currency == "EUR"
    assert d.ytd_net_value == Decimal("9000.00")  # 6 000 + 3 000; USD and the future left out
    assert d.ytd_quantity == Decimal("2")
    (standing,) = [p for p in d.programs if p.program_id == program.id]
    assert standing.ytd_measure == Decimal("9000.00")
    assert standing.rate == Decimal("1")
    assert standing.accrued == Decimal("90.00")  # 9 000 × 1 %
    assert standing.settled == Decimal("60.00")  # Q1: 6 000 × 1 %
    assert standing.to_next_band == Decimal("1000.00")  # 10 000 − 9 000
    assert standing.prior_ytd_measure is None  # no growth terms
    assert d.tier.tier == "silver"
    assert d.tier.trailing_net_value == Decimal("13000.00")  # 4 000 + 6 000 + 3 000
    assert (d.tier.next_tier, d.tier.to_next_tier) == ("gold", Decimal("7000.00"))
    assert d.this_year[1] == Decimal("6000.00")
    assert d.this_year[3] == Decimal("3000.00")
    assert d.this_year[4] == Decimal("999.00")  # the chart shows the month as recorded
    assert d.last_year[2] == Decimal("5000.00")
    assert d.last_year[5] == Decimal("4000.00")


def test_the_top_tier_has_no_gap(db: Session) -> None:
    set_tier_rules(db)
    distributor = make_distributor(db)
    make_profile(db, distributor, tier="platinum")
    d = distributor_dashboard(
        db, actor=make_finance(db), distributor_org_id=distributor.id, today=TODAY
    )
    assert (d.tier.tier, d.tier.next_tier, d.tier.to_next_tier) == ("platinum", None, None)


def test_a_distributor_past_a_higher_tier_qualifies_for_the_highest_one_reached(
    db: Session,
) -> None:
    set_tier_rules(db)
    distributor = make_distributor(db)
    make_profile(db, distributor)  # silver until the next review
    product = make_product_model(db)
    add_pickup(
        db, distributor=distributor, product=product, picked_on=date(2026, 4, 1), net_value=BIG
    )
    d = distributor_dashboard(
        db, actor=make_finance(db), distributor_org_id=distributor.id, today=TODAY
    )
    assert (d.tier.tier, d.tier.next_tier, d.tier.to_next_tier) == ("silver", "platinum", 0)


def test_a_partner_cannot_read_another_distributors_dashboard(db: Session) -> None:
    mine, other = make_distributor(db), make_distributor(db)
    partner = principal_of(make_user(db, org=mine))
    with pytest.raises(PermissionDenied):
        distributor_dashboard(db, actor=partner, distributor_org_id=other.id, today=TODAY)
