"""Rebate arithmetic against values computed by hand (the working is in each comment)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from partner_portal.models import Calculation, Growth
from partner_portal.rebates import (
    RebateTerms,
    TierBand,
    incremental_rebate,
    retroactive_rebate,
    round_money,
    tier_rate,
    to_next_tier,
    true_up,
)

# [0, 10 000) 1 %, [10 000, 50 000) 2 %, [50 000, ∞) 3 %
TIERS = (
    TierBand(D("0"), D("10000"), D("1")),
    TierBand(D("10000"), D("50000"), D("2")),
    TierBand(D("50000"), None, D("3")),
)


def terms(calculation: Calculation = Calculation.RETROACTIVE, **kwargs: Any) -> RebateTerms:
    return RebateTerms(tiers=TIERS, calculation=calculation, currency="EUR", **kwargs)


def test_retroactive_pays_the_reached_rate_back_to_the_first_unit() -> None:
    # 60 000 reaches the 3 % tier: 60 000 × 3 % = 1 800.00
    result = true_up(terms(), ytd_measure=D("60000"))
    assert result.ytd_rebate == D("1800.00")
    assert result.rate == D("3")
    assert result.currency == "EUR"


def test_incremental_pays_each_band_at_its_own_rate() -> None:
    # 10 000 × 1 % + 40 000 × 2 % + 10 000 × 3 % = 100 + 800 + 300 = 1 200.00
    result = true_up(terms(Calculation.INCREMENTAL), ytd_measure=D("60000"))
    assert result.ytd_rebate == D("1200.00")


def test_a_measure_exactly_on_a_boundary_belongs_to_the_upper_tier() -> None:
    # 10 000 is the lower bound of [10 000, 50 000): 2 %, so retroactive 10 000 × 2 % = 200.00
    assert tier_rate(TIERS, D("10000")) == D("2")
    assert round_money(retroactive_rebate(TIERS, D("10000"))) == D("200.00")
    # incremental: the whole first band 10 000 × 1 % = 100.00; nothing inside the second yet
    assert round_money(incremental_rebate(TIERS, D("10000"))) == D("100.00")
    # one cent below: 9 999.99 × 1 % = 99.9999 → 100.00
    assert tier_rate(TIERS, D("9999.99")) == D("1")
    assert round_money(retroactive_rebate(TIERS, D("9999.99"))) == D("100.00")


def test_money_is_rounded_once_half_up() -> None:
    # 10 000.25 × 2 % = 200.005 → 200.01 (half-even would give 200.00)
    assert true_up(terms(), ytd_measure=D("10000.25")).ytd_rebate == D("200.01")


def test_growth_on_increment_pays_on_what_was_added_over_last_year() -> None:
    # 30 000 this year against 12 000 last year: increment 18 000 → 2 % → 360.00
    result = true_up(
        terms(growth=Growth.ON_INCREMENT), ytd_measure=D("30000"), prior_ytd_measure=D("12000")
    )
    assert result.ytd_rebate == D("360.00")


def test_growth_on_total_pays_on_everything_once_the_year_grew() -> None:
    # 30 000 > 12 000: the whole 30 000 at 2 % = 600.00
    result = true_up(
        terms(growth=Growth.ON_TOTAL), ytd_measure=D("30000"), prior_ytd_measure=D("12000")
    )
    assert result.ytd_rebate == D("600.00")


@pytest.mark.parametrize("growth", [Growth.ON_INCREMENT, Growth.ON_TOTAL])
def test_no_growth_no_growth_rebate(growth: Growth) -> None:
    # 11 000 this year against 12 000 last year: it shrank, nothing is paid either way
    result = true_up(terms(growth=growth), ytd_measure=D("11000"), prior_ytd_measure=D("12000"))
    assert result.ytd_rebate == D("0.00")


def test_cap_on_the_measure_counts_no_more_than_the_cap() -> None:
    # 60 000 capped at 40 000: 40 000 is in the 2 % tier → 800.00 (not 1 800.00)
    result = true_up(terms(cap_measure=D("40000")), ytd_measure=D("60000"))
    assert result.ytd_rebate == D("800.00")
    assert result.rated_measure == D("40000")


def test_cap_on_the_payout_limits_the_rebate_of_the_year() -> None:
    # 60 000 × 3 % = 1 800.00, capped at 1 000.00
    result = true_up(terms(cap_payout=D("1000")), ytd_measure=D("60000"))
    assert result.ytd_rebate == D("1000.00")


def test_a_return_in_the_next_period_claws_back() -> None:
    # Q1: 55 000 YTD → 3 % → 1 650.00 settled
    q1 = true_up(terms(), ytd_measure=D("55000"))
    assert q1.payout == D("1650.00")
    # Q2: a return of 10 000 and nothing else: YTD 45 000 → 2 % → 900.00; 900 − 1 650 = −750.00
    q2 = true_up(terms(), ytd_measure=D("45000"), previously_settled=q1.payout)
    assert q2.ytd_rebate == D("900.00")
    assert q2.payout == D("-750.00")


def test_a_quantity_reaches_the_tier_and_the_rate_applies_to_the_net_value() -> None:
    # 120 units reach [100, ∞) 2.5 %; net value 48 000.50 × 2.5 % = 1 200.0125 → 1 200.01
    unit_tiers = (TierBand(D("0"), D("100"), D("1")), TierBand(D("100"), None, D("2.5")))
    result = true_up(
        RebateTerms(tiers=unit_tiers, calculation=Calculation.RETROACTIVE, currency="USD"),
        ytd_measure=D("120"),
        ytd_value=D("48000.50"),
    )
    assert result.ytd_rebate == D("1200.01")
    assert result.currency == "USD"


def test_distance_to_the_next_tier() -> None:
    # 42 000 is 8 000 short of 50 000; nothing lies above the top tier
    assert to_next_tier(TIERS, D("42000")) == D("8000")
    assert to_next_tier(TIERS, D("75000")) is None
