"""Who may take a work order, nearest first: hard constraints in SQL, then a documented score.

score (lower is better, in kilometres of travel):
    km to the asset's site
    + WORKLOAD_KM per job the engineer already holds or has been offered
    + URGENCY_KM_PER_HOUR[priority] per hour until the engineer's shift starts (0 if on shift)
Only the `dispatch_candidate_pool` nearest eligible engineers (PostGIS KNN over the GiST index
on engineers.location) are scored, so the weights reorder near ties and never pull in someone
far away.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from core.errors import NotFound
from service_orders.models import WorkOrder
from service_orders.states import HELD

WORKLOAD_KM = 5.0
# an urgent job should not wait for a shift that starts later; a routine one may
URGENCY_KM_PER_HOUR = {1: 60.0, 2: 30.0, 3: 10.0, 4: 5.0}
DEFAULT_POOL = 10
DEFAULT_EXCLUDED_SAMPLE = 10
# offers for this order that rule an engineer out for good
SPENT_OFFERS = ("declined", "expired")


class OrderFacts(Protocol):
    """What ranking reads of a work order (a `WorkOrder`, or a row with these columns)."""

    @property
    def id(self) -> int: ...
    @property
    def priority(self) -> int: ...
    @property
    def required_family(self) -> str: ...
    @property
    def required_level(self) -> int: ...
    @property
    def respond_by(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """An engineer who passes every hard constraint, with the parts of their score."""

    engineer_id: int
    metres: float
    load: int
    capacity: int
    wait_s: float
    score: float

    def as_json(self) -> dict[str, Any]:
        # not dataclasses.asdict: it deep-copies every field, twenty of these per decision
        return {
            "engineer_id": self.engineer_id,
            "metres": round(self.metres, 1),
            "load": self.load,
            "capacity": self.capacity,
            "wait_s": self.wait_s,
            "score": round(self.score, 3),
        }


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A nearby engineer who fails a hard constraint, and which ones."""

    engineer_id: int
    metres: float
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "engineer_id": self.engineer_id,
            "metres": round(self.metres, 1),
            "excluded": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class SitePoint:
    lat: float
    lon: float


_SITE = text(
    "SELECT ST_Y(s.location::geometry) AS lat, ST_X(s.location::geometry) AS lon "
    "FROM assets a JOIN sites s ON s.id = a.site_id WHERE a.id = :asset_id"
)
# the point is an immutable expression of parameters, so the planner can drive the KNN
# index scan with it
_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"


# engineers who declined this order or let its offer expire (computed once per statement)
_SPENT = """ARRAY(
    SELECT o.engineer_id FROM dispatch_offers o
    WHERE o.work_order_id = :work_order_id AND o.status = ANY(:spent)
)"""
_LOAD = """(
    SELECT count(*) FROM work_orders w WHERE w.engineer_id = e.id AND w.status = ANY(:held)
) + (
    SELECT count(*) FROM dispatch_offers o WHERE o.engineer_id = e.id AND o.status = 'pending'
)"""


LOAD_SQL = _LOAD  # an engineer `e`'s jobs held + pending offers; needs :held


def _compose(sql: str) -> TextClause:
    """A statement with the shared fragments (module constants, never input) filled in."""
    return text(sql.replace("$POINT", _POINT).replace("$LOAD", _LOAD).replace("$SPENT", _SPENT))


_ELIGIBLE_SQL = """
SELECT e.id, e.max_concurrent_jobs, ST_Distance(e.location, $POINT) AS metres,
       load.n AS load, shift.starts_at$PAD_ELIGIBLE
FROM engineers e
CROSS JOIN LATERAL (SELECT $LOAD AS n) AS load
CROSS JOIN LATERAL (
    SELECT min(sh.starts_at) AS starts_at FROM shifts sh
    WHERE sh.engineer_id = e.id AND sh.ends_at > :now AND sh.starts_at <= :horizon
) AS shift
WHERE e.status <> 'off_shift'
  AND shift.starts_at IS NOT NULL
  AND load.n < e.max_concurrent_jobs
  AND EXISTS (
    SELECT 1 FROM engineer_skills k
    WHERE k.engineer_id = e.id AND k.family = :family AND k.level >= :level
      AND (k.certified_until IS NULL OR k.certified_until >= :today)
  )
  AND e.id <> ALL($SPENT)
ORDER BY e.location <-> $POINT
LIMIT :pool
"""
_NEARBY_SQL = """
SELECT e.id, e.max_concurrent_jobs, ST_Distance(e.location, $POINT) AS metres,
       $LOAD AS load$PAD_NEARBY, e.status, k.level, k.certified_until,
       COALESCE((
         SELECT true FROM shifts sh
         WHERE sh.engineer_id = e.id AND sh.ends_at > :now AND sh.starts_at <= :horizon
         LIMIT 1
       ), false) AS has_shift,
       e.id = ANY($SPENT) AS spent
FROM engineers e
LEFT JOIN LATERAL (
    SELECT k.level, k.certified_until FROM engineer_skills k
    WHERE k.engineer_id = e.id AND k.family = :family
) AS k ON true
ORDER BY e.location <-> $POINT
LIMIT :sample
"""
_ELIGIBLE = _compose(_ELIGIBLE_SQL.replace("$PAD_ELIGIBLE", ""))
_NEARBY = _compose(_NEARBY_SQL.replace("$PAD_NEARBY", ""))
# both in one round trip (dispatch's hot path): each branch keeps its own KNN walk and LIMIT;
# `eligible` tells the branches apart, the columns the other branch has are NULL
_RANKED_AND_NEARBY = _compose(
    "("
    + _ELIGIBLE_SQL.replace(
        "$PAD_ELIGIBLE",
        ", true AS eligible, NULL AS status, NULL AS level, NULL AS certified_until,"
        " NULL AS has_shift, NULL AS spent",
    )
    + ") UNION ALL ("
    + _NEARBY_SQL.replace("$PAD_NEARBY", ", NULL AS starts_at, false AS eligible")
    + ")"
)


def site_point(session: Session, *, work_order: WorkOrder) -> SitePoint:
    """Where the work order's asset stands."""
    row = session.execute(_SITE, {"asset_id": work_order.asset_id}).one_or_none()
    if row is None:
        raise NotFound(f"No site for asset {work_order.asset_id}.", entity="sites")
    return SitePoint(float(row.lat), float(row.lon))


def rank_candidates(
    session: Session,
    *,
    work_order: WorkOrder,
    now: datetime,
    pool: int = DEFAULT_POOL,
    site: SitePoint | None = None,
) -> list[Candidate]:
    """Eligible engineers for the work order, best score first."""
    site = site or site_point(session, work_order=work_order)
    rows = session.execute(_ELIGIBLE, {**_params(work_order, now, site), "pool": pool})
    return _scored(rows, work_order, now)


def excluded_nearby(
    session: Session,
    *,
    work_order: WorkOrder,
    now: datetime,
    sample: int = DEFAULT_EXCLUDED_SAMPLE,
    site: SitePoint | None = None,
) -> list[Exclusion]:
    """The nearest engineers who fail a hard constraint, each with every reason."""
    site = site or site_point(session, work_order=work_order)
    rows = session.execute(_NEARBY, {**_params(work_order, now, site), "sample": sample})
    return _exclusions(rows, work_order, now)


def rank_and_exclude(
    session: Session,
    *,
    work_order: OrderFacts,
    now: datetime,
    site: SitePoint,
    pool: int = DEFAULT_POOL,
    sample: int = DEFAULT_EXCLUDED_SAMPLE,
) -> tuple[list[Candidate], list[Exclusion]]:
    """`rank_candidates` and `excluded_nearby` in one round trip (the same two KNN walks)."""
    rows = session.execute(_ranked_and_nearby(pool, sample), _params(work_order, now, site)).all()
    return (
        _scored((row for row in rows if row.eligible), work_order, now),
        _exclusions((row for row in rows if not row.eligible), work_order, now),
    )


def _scored(rows: Iterable[Any], work_order: OrderFacts, now: datetime) -> list[Candidate]:
    urgency = URGENCY_KM_PER_HOUR.get(work_order.priority, URGENCY_KM_PER_HOUR[4])
    candidates = []
    for row in rows:
        wait_s = max(0.0, (row.starts_at - now).total_seconds())
        score = row.metres / 1000 + WORKLOAD_KM * row.load + urgency * wait_s / 3600
        candidates.append(
            Candidate(
                engineer_id=row.id,
                metres=float(row.metres),
                load=int(row.load),
                capacity=int(row.max_concurrent_jobs),
                wait_s=wait_s,
                score=score,
            )
        )
    return sorted(candidates, key=lambda c: (c.score, c.metres, c.engineer_id))


def _exclusions(rows: Iterable[Any], work_order: OrderFacts, now: datetime) -> list[Exclusion]:
    today = now.date()
    exclusions = []
    for row in rows:
        reasons = []
        if row.level is None:
            reasons.append("no_skill")
        else:
            if row.level < work_order.required_level:
                reasons.append("level_too_low")
            if row.certified_until is not None and row.certified_until < today:
                reasons.append("certificate_expired")
        if row.status == "off_shift":
            reasons.append("off_shift")
        if not row.has_shift:
            reasons.append("no_shift_before_respond_by")
        if row.load >= row.max_concurrent_jobs:
            reasons.append("at_capacity")
        if row.spent:
            reasons.append("declined_or_let_expire")
        if reasons:
            exclusions.append(Exclusion(int(row.id), float(row.metres), tuple(reasons)))
    return exclusions


@lru_cache(maxsize=8)
def _ranked_and_nearby(pool: int, sample: int) -> TextClause:
    """The statement with its limits written in (integers, never input).

    psycopg prepares a statement it has run five times on a connection, and PostgreSQL then
    may switch to a generic plan. With the limits as parameters the generic plan of this
    statement sorts all engineers (about 50 ms in the benchmark, measured with
    plan_cache_mode = force_generic_plan); with them written in it keeps the KNN index walk
    (about 3 ms). The custom plans PostgreSQL uses meanwhile are the same either way.
    """
    limits = {":pool": str(int(pool)), ":sample": str(int(sample))}
    sql = _RANKED_AND_NEARBY.text
    for name, value in limits.items():
        sql = sql.replace(name, value)
    return text(sql)


def _params(work_order: OrderFacts, now: datetime, site: SitePoint) -> dict[str, Any]:
    held: Sequence[str] = sorted(HELD)
    return {
        "lat": site.lat,
        "lon": site.lon,
        "now": now,
        # on shift now, or starting before the respond-by (or now, once that has passed)
        "horizon": max(work_order.respond_by, now),
        "today": now.date(),
        "family": work_order.required_family,
        "level": work_order.required_level,
        "work_order_id": work_order.id,
        "held": list(held),
        "spent": list(SPENT_OFFERS),
    }
