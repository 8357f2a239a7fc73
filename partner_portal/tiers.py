"""Partner tiers: the period-end review (promotion and demotion by trailing 12 months' net
value against `TierRule`), manual changes by staff, and the history.

A review is idempotent for a period end: a distributor already reviewed for it (a
`TierChange` with that period end) is skipped, and the review itself leaves one audit row
(entity `tier_reviews`, id = the period end) that the daily job checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.errors import InvalidInput, NotFound, PermissionDenied
from crm.audit import UPDATE, record_change
from crm.models import AuditLog, Organization
from partner_portal.access import require_finance
from partner_portal.dashboard import trailing_net_value
from partner_portal.models import DistributorProfile, Tier, TierChange, TierRule

REVIEW_ENTITY = "tier_reviews"
_ORDER = [tier.value for tier in Tier]


@dataclass(frozen=True, slots=True)
class ReviewResult:
    """What one period-end review changed."""

    period_end: date
    promoted: int
    demoted: int
    unchanged: int
    skipped: int


def earned_tier(rules: list[TierRule], trailing: Decimal) -> str:
    """The highest tier whose minimum is reached (a minimum exactly met counts); else silver."""
    reached = [rule.tier for rule in rules if trailing >= rule.min_net_value]
    return max(reached, key=_ORDER.index, default=Tier.SILVER.value)


def review_tiers(session: Session, *, actor: Principal, period_end: date) -> ReviewResult:
    """Set every distributor's tier from its trailing 12 months to `period_end` (inclusive)."""
    require_finance(actor, to="review partner tiers")
    rules = list(session.scalars(select(TierRule)))
    if not rules:
        raise InvalidInput("Define the tier rules first.", code="tier_rules_missing")
    currency = rules[0].currency
    reviewed = set(
        session.scalars(select(TierChange.org_id).where(TierChange.period_end == period_end))
    )
    counts = {"promoted": 0, "demoted": 0, "unchanged": 0, "skipped": 0}
    profiles = session.scalars(
        select(DistributorProfile).order_by(DistributorProfile.org_id).with_for_update()
    )
    for profile in profiles:
        if profile.org_id in reviewed:
            counts["skipped"] += 1
            continue
        trailing = trailing_net_value(session, profile.org_id, period_end, currency)
        tier = earned_tier(rules, trailing)
        if tier == profile.tier:
            counts["unchanged"] += 1
            continue
        up = _ORDER.index(tier) > _ORDER.index(profile.tier)
        counts["promoted" if up else "demoted"] += 1
        _change(
            session,
            actor=actor,
            profile=profile,
            tier=tier,
            reason=f"{'promoted' if up else 'demoted'} at the review of {period_end.isoformat()}",
            period_end=period_end,
            trailing=trailing,
        )
    result = ReviewResult(period_end, **counts)
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=REVIEW_ENTITY,
        entity_id=period_end.isoformat(),
        before=None,
        after=dict(counts),
    )
    return result


def was_reviewed(session: Session, period_end: date) -> bool:
    """Whether a review for this period end ran already."""
    found = session.scalar(
        select(AuditLog.id)
        .where(AuditLog.entity == REVIEW_ENTITY, AuditLog.entity_id == period_end.isoformat())
        .limit(1)
    )
    return found is not None


def last_quarter_end(today: date) -> date:
    """The last day of the latest quarter that ended before `today`."""
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return date.fromordinal(quarter_start.toordinal() - 1)


def save_tier_rules(
    session: Session, *, actor: Principal, minimums: Mapping[str, Decimal], currency: str
) -> list[TierRule]:
    """Finance sets each tier's minimum trailing net value; higher tiers need more."""
    require_finance(actor, to="set the tier rules")
    if sorted(minimums) != sorted(_ORDER):
        raise InvalidInput("Give a minimum for every tier.", code="tier_rules_incomplete")
    values = [minimums[tier] for tier in _ORDER]
    if values[0] < 0 or any(low >= high for low, high in pairwise(values)):
        raise InvalidInput(
            "Minimums start at 0 or more and rise from silver to platinum.",
            code="tier_rules_order",
        )
    before = {r.tier: str(r.min_net_value) for r in session.scalars(select(TierRule))}
    rules = [
        session.merge(TierRule(tier=tier, min_net_value=minimums[tier], currency=currency))
        for tier in _ORDER
    ]
    session.flush()
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=TierRule.__tablename__,
        entity_id="all",
        before=before or None,
        after={tier: str(minimums[tier]) for tier in _ORDER} | {"currency": currency},
    )
    return rules


def set_tier(
    session: Session, *, actor: Principal, org_id: int, tier: str, reason: str
) -> TierChange | None:
    """Staff change a distributor's tier by hand, with a reason; None when it is unchanged."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff may change a partner tier.")
    if tier not in _ORDER:
        raise InvalidInput(f"Unknown tier {tier!r}.", code="tier_unknown")
    if not reason.strip():
        raise InvalidInput("Say why the tier changes.", code="tier_reason_missing")
    profile = session.get(DistributorProfile, org_id, with_for_update=True)
    if profile is None:
        raise NotFound(f"No distributor profile {org_id}.", entity="distributor")
    if profile.tier == tier:
        return None
    return _change(
        session, actor=actor, profile=profile, tier=tier, reason=reason.strip(), period_end=None
    )


def _change(
    session: Session,
    *,
    actor: Principal,
    profile: DistributorProfile,
    tier: str,
    reason: str,
    period_end: date | None,
    trailing: Decimal | None = None,
) -> TierChange:
    change = TierChange(
        org_id=profile.org_id,
        from_tier=profile.tier,
        to_tier=tier,
        period_end=period_end,
        trailing_net_value=trailing,
        reason=reason,
        changed_by=None if actor == SYSTEM else actor.user_id,
    )
    session.add(change)
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=DistributorProfile.__tablename__,
        entity_id=profile.org_id,
        before={"tier": profile.tier},
        after={"tier": tier, "reason": reason},
    )
    profile.tier = tier
    session.flush()
    return change


@dataclass(frozen=True, slots=True)
class TierHistoryRow:
    """One tier change with the distributor's name."""

    change: TierChange
    distributor: str


def tier_history(session: Session, *, limit: int = 100) -> list[TierHistoryRow]:
    """The latest tier changes, newest first."""
    rows = session.execute(
        select(TierChange, Organization.name)
        .join(Organization, Organization.id == TierChange.org_id)
        .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
        .limit(limit)
    )
    return [TierHistoryRow(*row) for row in rows]
