"""Rebate arithmetic, pure and in Decimal: tier rates, retroactive and incremental rebates,
growth against the prior year, caps, and the year-to-date true-up.

Intermediate amounts keep full precision; money is rounded once, at the end, half-up to
cents. Tiers are half-open: a measure exactly on a boundary belongs to the upper tier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from partner_portal.models import Calculation, Growth

CENT = Decimal("0.01")
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TierBand:
    """[lower, upper) earns `rate` percent; upper None means no limit."""

    lower: Decimal
    upper: Decimal | None
    rate: Decimal

    def contains(self, measure: Decimal) -> bool:
        return self.lower <= measure and (self.upper is None or measure < self.upper)


@dataclass(frozen=True, slots=True)
class RebateTerms:
    """How one program computes: its tiers and settings (see RebateProgram)."""

    tiers: tuple[TierBand, ...]
    calculation: Calculation
    currency: str
    growth: Growth = Growth.NONE
    cap_measure: Decimal | None = None
    cap_payout: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TrueUp:
    """One period's settlement: the rebate earned year to date and what is left to pay."""

    currency: str
    rated_measure: Decimal
    rate: Decimal
    ytd_rebate: Decimal
    previously_settled: Decimal
    payout: Decimal


def round_money(amount: Decimal) -> Decimal:
    """Half-up to cents: the one rounding step of every computation here."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def tier_rate(tiers: Sequence[TierBand], measure: Decimal) -> Decimal:
    """The rate (percent) of the tier the measure falls in; 0 below the first tier."""
    for band in tiers:
        if band.contains(measure):
            return band.rate
    return _ZERO


def to_next_tier(tiers: Sequence[TierBand], measure: Decimal) -> Decimal | None:
    """How much more measure reaches the next higher tier; None when none is above."""
    above = [band.lower for band in tiers if band.lower > measure]
    return min(above) - measure if above else None


def retroactive_rebate(
    tiers: Sequence[TierBand], measure: Decimal, *, base: Decimal | None = None
) -> Decimal:
    """Back to the first unit: the whole base (default: the measure) at the reached rate."""
    amount = measure if base is None else base
    return amount * tier_rate(tiers, measure) / _HUNDRED


def incremental_rebate(tiers: Sequence[TierBand], measure: Decimal) -> Decimal:
    """Marginal: each tier's rate applies only to the part of the measure inside it."""
    total = _ZERO
    for band in tiers:
        if measure <= band.lower:
            continue
        top = measure if band.upper is None else min(measure, band.upper)
        total += (top - band.lower) * band.rate / _HUNDRED
    return total


def growth_measure(growth: Growth, *, measure: Decimal, prior_measure: Decimal) -> Decimal:
    """What the tiers apply to: the measure, its increment, or the measure only when it grew."""
    if growth is Growth.ON_INCREMENT:
        return max(measure - prior_measure, _ZERO)
    if growth is Growth.ON_TOTAL:
        return measure if measure > prior_measure else _ZERO
    return measure


def true_up(
    terms: RebateTerms,
    *,
    ytd_measure: Decimal,
    prior_ytd_measure: Decimal = _ZERO,
    ytd_value: Decimal | None = None,
    prior_ytd_value: Decimal = _ZERO,
    previously_settled: Decimal = _ZERO,
) -> TrueUp:
    """The payout of a period: the rebate on the year-to-date measure minus what was settled.

    `ytd_value` is given when the measure is a quantity: the quantity reaches the tier and
    the rate applies to the net value. A payout may be negative (returns claw back).
    """
    rated = growth_measure(terms.growth, measure=ytd_measure, prior_measure=prior_ytd_measure)
    base = (
        None if ytd_value is None else _growth_base(terms.growth, rated, ytd_value, prior_ytd_value)
    )
    if terms.cap_measure is not None and rated > terms.cap_measure:
        # a capped quantity keeps the average value of the units it counts
        base = None if base is None else base * terms.cap_measure / rated
        rated = terms.cap_measure
    if terms.calculation is Calculation.INCREMENTAL:
        if base is not None:
            raise ValueError("an incremental rebate is computed on the net value itself")
        raw = incremental_rebate(terms.tiers, rated)
    else:
        raw = retroactive_rebate(terms.tiers, rated, base=base)
    if terms.cap_payout is not None:
        raw = min(raw, terms.cap_payout)
    ytd_rebate = round_money(raw)
    return TrueUp(
        currency=terms.currency,
        rated_measure=rated,
        rate=tier_rate(terms.tiers, rated),
        ytd_rebate=ytd_rebate,
        previously_settled=previously_settled,
        payout=ytd_rebate - previously_settled,
    )


def _growth_base(growth: Growth, rated: Decimal, value: Decimal, prior_value: Decimal) -> Decimal:
    if rated == _ZERO:
        return _ZERO
    if growth is Growth.ON_INCREMENT:
        return max(value - prior_value, _ZERO)
    return value
