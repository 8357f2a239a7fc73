"""The period-end tier review: promotion, demotion, the exact boundary, idempotence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, PermissionDenied
from crm.models import AuditLog, Organization
from partner_portal.models import DistributorProfile, TierChange
from partner_portal.tiers import (
    last_quarter_end,
    review_tiers,
    save_tier_rules,
    set_tier,
    was_reviewed,
)
from tests.crm.factories import make_product_model, make_user, principal_of
from tests.partner_portal.factories import add_pickup, make_distributor
from tests.partner_portal.statement_factories import make_finance, make_profile, set_tier_rules

QUARTER_END = date(2026, 3, 31)


def _distributor(db: Session, tier: str, *values: tuple[date, str]) -> Organization:
    distributor = make_distributor(db)
    make_profile(db, distributor, tier=tier)
    product = make_product_model(db)
    for picked_on, value in values:
        add_pickup(
            db, distributor=distributor, product=product, picked_on=picked_on, net_value=value
        )
    return distributor


def _tier(db: Session, org: Organization) -> str:
    profile = db.get_one(DistributorProfile, org.id)
    db.refresh(profile)
    return profile.tier


def test_promotion_demotion_and_the_exact_boundary(db: Session) -> None:
    set_tier_rules(db, gold="20000", platinum="50000")
    grower = _distributor(db, "silver", (date(2025, 6, 1), "30000"))
    shrinker = _distributor(db, "platinum", (date(2025, 1, 10), "90000"), (date(2026, 1, 5), "100"))
    exact = _distributor(db, "silver", (date(2025, 4, 1), "50000.00"))
    just_out = _distributor(db, "gold", (date(2025, 3, 31), "70000"))  # 12 months back: excluded

    result = review_tiers(db, actor=make_finance(db), period_end=QUARTER_END)

    assert _tier(db, grower) == "gold"
    assert _tier(db, shrinker) == "silver"
    assert _tier(db, exact) == "platinum"  # a minimum exactly met counts
    assert _tier(db, just_out) == "silver"
    assert (result.promoted, result.demoted) >= (2, 2)
    change = db.scalars(select(TierChange).where(TierChange.org_id == grower.id)).one()
    assert (change.from_tier, change.to_tier, change.period_end) == ("silver", "gold", QUARTER_END)
    assert str(change.trailing_net_value) == "30000.00"


def test_a_second_review_of_the_same_period_end_changes_nothing(db: Session) -> None:
    set_tier_rules(db)
    grower = _distributor(db, "silver", (date(2025, 6, 1), "30000"))
    finance = make_finance(db)
    review_tiers(db, actor=finance, period_end=QUARTER_END)
    set_tier(db, actor=finance, org_id=grower.id, tier="silver", reason="kept back by contract")

    again = review_tiers(db, actor=finance, period_end=QUARTER_END)

    assert _tier(db, grower) == "silver"
    assert again.skipped >= 1
    assert was_reviewed(db, QUARTER_END)
    assert db.scalars(select(TierChange).where(TierChange.org_id == grower.id)).all()[
        -1
    ].reason == ("kept back by contract")


def test_staff_change_a_tier_with_a_reason_partners_cannot(db: Session) -> None:
    distributor = _distributor(db, "silver")
    partner = principal_of(make_user(db, org=distributor))
    with pytest.raises(PermissionDenied):
        set_tier(db, actor=partner, org_id=distributor.id, tier="platinum", reason="please")
    with pytest.raises(PermissionDenied):
        review_tiers(db, actor=partner, period_end=QUARTER_END)
    with pytest.raises(InvalidInput):
        set_tier(db, actor=make_finance(db), org_id=distributor.id, tier="gold", reason=" ")
    assert _tier(db, distributor) == "silver"

    change = set_tier(
        db, actor=make_finance(db), org_id=distributor.id, tier="gold", reason="launch partner"
    )

    assert change is not None
    assert change.period_end is None
    assert _tier(db, distributor) == "gold"
    audit = db.scalars(
        select(AuditLog).where(
            AuditLog.entity == "distributor_profiles", AuditLog.entity_id == str(distributor.id)
        )
    ).one()
    assert audit.after == {"tier": "gold", "reason": "launch partner"}


def test_the_job_reviews_the_quarter_that_ended_last() -> None:
    assert last_quarter_end(date(2026, 4, 1)) == date(2026, 3, 31)
    assert last_quarter_end(date(2026, 6, 30)) == date(2026, 3, 31)
    assert last_quarter_end(date(2026, 1, 2)) == date(2025, 12, 31)


def test_tier_minimums_rise_from_silver_to_platinum(db: Session) -> None:
    finance = make_finance(db)
    with pytest.raises(InvalidInput):
        save_tier_rules(
            db,
            actor=finance,
            minimums={"silver": Decimal(0), "gold": Decimal(5), "platinum": Decimal(5)},
            currency="EUR",
        )
    rules = save_tier_rules(
        db,
        actor=finance,
        minimums={"silver": Decimal(0), "gold": Decimal(5), "platinum": Decimal(9)},
        currency="EUR",
    )
    assert [(r.tier, r.min_net_value) for r in rules] == [
        ("silver", Decimal(0)),
        ("gold", Decimal(5)),
        ("platinum", Decimal(9)),
    ]
