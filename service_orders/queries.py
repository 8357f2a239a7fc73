"""Read side of service orders: the engineer's day, the dispatch board, the queue with SLAs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import utcnow
from crm.geo import point_lat_lon
from crm.models import Asset, Site, User
from crm.service import asset_visibility
from service_orders.models import (
    DispatchDecision,
    DispatchOffer,
    Engineer,
    EngineerStatus,
    OfferStatus,
    Shift,
    WorkOrder,
    WorkOrderPhoto,
)
from service_orders.states import HELD, OPEN, UNASSIGNED, Action, Status, actions_now
from telemetry.health.models import AssetHealth

# the engineer's own jobs in the order they work them: on site first, parked last
_DAY_ORDER = {Status.ON_SITE: 0, Status.EN_ROUTE: 1, Status.ACCEPTED: 2, Status.ON_HOLD: 3}
MINE = frozenset(_DAY_ORDER)
BOARD_ASSET_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Place:
    """Where a work order's asset stands."""

    serial: str
    site_name: str
    address: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Job:
    """A work order as the engineer's phone shows it; `offer` is set while it is offered."""

    work_order: WorkOrder
    place: Place
    offer: DispatchOffer | None = None

    def actions(self, now: datetime) -> list[Action]:
        """What the engineer may do with it now (an offer past its time takes no answer)."""
        return actions_now(
            self.work_order.status,
            staff=False,
            assigned=self.offer is None and self.work_order.engineer_id is not None,
            offer_pending=self.offer is not None and self.offer.expires_at > now,
        )


@dataclass(frozen=True, slots=True)
class BoardEngineer:
    """An engineer as the board shows them; `status` is what they do now (on_job while they
    hold a job, whatever they set themselves), `activity` says it in words."""

    id: int
    name: str
    status: str
    lat: float
    lon: float
    location_at: datetime | None
    load: int
    capacity: int
    activity: str
    working_on: str = ""  # the numbers of the jobs behind `activity`
    offers: int = 0


@dataclass(frozen=True, slots=True)
class BoardAsset:
    id: int
    serial: str
    site_name: str
    lat: float
    lon: float
    health: int | None
    open_orders: int


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A work order on the dispatcher's queue, with its SLA clock and the last decision."""

    work_order: WorkOrder
    place: Place
    seconds_left: int  # to respond_by while unassigned, to resolve_by once held
    offered_to: int | None
    decision: DispatchDecision | None

    @property
    def late(self) -> bool:
        return self.seconds_left < 0

    @property
    def actions(self) -> list[Action]:
        """What a dispatcher may do with it now."""
        return actions_now(
            self.work_order.status,
            staff=True,
            assigned=self.work_order.engineer_id is not None,
            offer_pending=self.offered_to is not None,
        )


def health_band(score: int | None) -> str:
    """The colour band of a health score (same thresholds as the telemetry badge)."""
    if score is None:
        return "unknown"
    return "good" if score >= 80 else ("fair" if score >= 50 else "poor")


def countdown(seconds: int) -> str:
    """'2 h 05 min left' or '15 min overdue' for an SLA clock."""
    minutes = abs(seconds) // 60
    text = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return f"{text} left" if seconds >= 0 else f"{text} overdue"


def offer_clock(seconds: int) -> str:
    """The time left to answer an offer: '1 min 05 s', '45 s' (never '0 min' while it runs)."""
    if seconds <= 0:
        return "0 s"
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


# --- the engineer's day -----------------------------------------------------------------


def engineer_day(session: Session, *, engineer_id: int, now: datetime | None = None) -> list[Job]:
    """The engineer's jobs in working order, then the offers waiting for an answer."""
    now = now or utcnow()
    held = session.scalars(
        select(WorkOrder).where(
            WorkOrder.engineer_id == engineer_id, WorkOrder.status.in_(list(MINE))
        )
    ).all()
    held_sorted = sorted(
        held, key=lambda w: (_DAY_ORDER[Status(w.status)], w.priority, w.resolve_by, w.id)
    )
    offers = session.execute(
        select(DispatchOffer, WorkOrder)
        .join(WorkOrder, WorkOrder.id == DispatchOffer.work_order_id)
        .where(
            DispatchOffer.engineer_id == engineer_id,
            DispatchOffer.status == OfferStatus.PENDING,
            DispatchOffer.expires_at > now,
        )
        .order_by(DispatchOffer.offered_at, DispatchOffer.id)
    ).all()
    places = places_of(session, [w.asset_id for w in held] + [w.asset_id for _, w in offers])
    jobs = [Job(w, places[w.asset_id]) for w in held_sorted]
    return jobs + [Job(w, places[w.asset_id], offer) for offer, w in offers]


def day_fingerprint(jobs: Sequence[Job]) -> str:
    """Changes whenever a job or offer appears, goes or changes: the page reloads its list."""
    parts = [
        f"{j.work_order.id}:{j.work_order.status}:{j.work_order.updated_at.isoformat()}:"
        f"{j.offer.id if j.offer else ''}"
        for j in jobs
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def places_of(session: Session, asset_ids: Sequence[int]) -> dict[int, Place]:
    """Serial, site and coordinates of each asset, by asset id."""
    if not asset_ids:
        return {}
    rows = session.execute(
        select(Asset.id, Asset.serial, Site)
        .join(Site, Site.id == Asset.site_id)
        .where(Asset.id.in_(set(asset_ids)))
    ).all()
    return {
        asset_id: Place(serial, site.name, site.address, *point_lat_lon(site.location))
        for asset_id, serial, site in rows
    }


def photos_of(session: Session, *, work_order_id: int) -> Sequence[WorkOrderPhoto]:
    """The photos of a work order, oldest first (the caller checked visibility)."""
    query = select(WorkOrderPhoto).where(WorkOrderPhoto.work_order_id == work_order_id)
    return session.scalars(query.order_by(WorkOrderPhoto.id)).all()


# --- the dispatch board -------------------------------------------------------------------


def board_engineers(session: Session, *, now: datetime | None = None) -> list[BoardEngineer]:
    """Every engineer with live location, what they are doing and how many jobs they hold."""
    now = now or utcnow()
    on_shift = (
        select(Shift.id)
        .where(Shift.engineer_id == Engineer.id, Shift.starts_at <= now, Shift.ends_at > now)
        .exists()
    )
    rows = session.execute(
        select(Engineer, User.full_name, on_shift)
        .join(User, User.id == Engineer.user_id)
        .order_by(User.full_name, Engineer.id)
    ).all()
    held: dict[int, list[tuple[str, str]]] = {}
    for engineer_id, status, number in session.execute(
        select(WorkOrder.engineer_id, WorkOrder.status, WorkOrder.number).where(
            WorkOrder.status.in_(list(HELD))
        )
    ):
        if engineer_id is not None:  # a held job always has one; the column is nullable
            held.setdefault(engineer_id, []).append((status, number))
    offers = dict(
        session.execute(
            select(DispatchOffer.engineer_id, func.count())
            .where(DispatchOffer.status == OfferStatus.PENDING)
            .group_by(DispatchOffer.engineer_id)
        ).all()
    )
    engineers = []
    for e, name, shift_now in rows:
        jobs = held.get(e.id, [])
        status, activity, working_on = _doing(e.status, bool(shift_now), jobs)
        lat, lon = point_lat_lon(e.location)
        engineers.append(
            BoardEngineer(
                e.id,
                name,
                status,
                lat,
                lon,
                e.location_at,
                len(jobs),
                e.max_concurrent_jobs,
                activity,
                working_on,
                offers=int(offers.get(e.id, 0)),
            )
        )
    return engineers


# what an engineer holding jobs is doing, the furthest step of a visit first
_DOING = (
    (Status.ON_SITE, "on site"),
    (Status.EN_ROUTE, "on the way"),
    (Status.ACCEPTED, "accepted"),
)


def _doing(own_status: str, on_shift: bool, jobs: list[tuple[str, str]]) -> tuple[str, str, str]:
    """(status key, words, job numbers) of an engineer: their jobs first, then the status they
    set themselves, then whether a shift covers now."""
    for status, words in _DOING:
        numbers = sorted(number for s, number in jobs if s == status)
        if numbers:
            return EngineerStatus.ON_JOB, words, ", ".join(numbers)
    if own_status == EngineerStatus.OFF_SHIFT or not on_shift:
        return EngineerStatus.OFF_SHIFT, "off shift", ""
    if own_status == EngineerStatus.ON_JOB:
        return EngineerStatus.ON_JOB, "busy", ""
    return EngineerStatus.AVAILABLE, "available", ""


def board_assets(
    session: Session, *, principal: Principal, limit: int = BOARD_ASSET_LIMIT
) -> list[BoardAsset]:
    """Assets with their site location, current health and number of open work orders."""
    open_orders = (
        select(WorkOrder.asset_id, func.count().label("n"))
        .where(WorkOrder.status.in_(list(OPEN)))
        .group_by(WorkOrder.asset_id)
        .subquery()
    )
    rows = session.execute(
        select(Asset.id, Asset.serial, Site, AssetHealth.score, func.coalesce(open_orders.c.n, 0))
        .join(Site, Site.id == Asset.site_id)
        .outerjoin(AssetHealth, AssetHealth.asset_id == Asset.id)
        .outerjoin(open_orders, open_orders.c.asset_id == Asset.id)
        .where(asset_visibility(principal))
        # the sickest first, so a truncated map still shows what matters
        .order_by(AssetHealth.score.asc().nulls_last(), Asset.id)
        .limit(limit)
    ).all()
    return [
        BoardAsset(asset_id, serial, site.name, *point_lat_lon(site.location), score, int(n))
        for asset_id, serial, site, score, n in rows
    ]


def dispatch_queue(
    session: Session, *, now: datetime | None = None, limit: int = 200
) -> list[QueueItem]:
    """Unassigned work orders (overdue ones included), the closest respond-by first."""
    return _orders_on_the_clock(session, UNASSIGNED, "respond_by", now=now, limit=limit)


def jobs_in_progress(
    session: Session, *, now: datetime | None = None, limit: int = 200
) -> list[QueueItem]:
    """Work orders an engineer holds or parked on hold, the closest resolve-by first."""
    return _orders_on_the_clock(session, MINE, "resolve_by", now=now, limit=limit)


def _orders_on_the_clock(
    session: Session,
    statuses: frozenset[Status],
    clock: str,
    *,
    now: datetime | None,
    limit: int,
) -> list[QueueItem]:
    now = now or utcnow()
    deadline = getattr(WorkOrder, clock)
    orders = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.status.in_(list(statuses)))
        .order_by(deadline, WorkOrder.priority, WorkOrder.id)
        .limit(limit)
    ).all()
    if not orders:
        return []
    ids = [w.id for w in orders]
    places = places_of(session, [w.asset_id for w in orders])
    pending = dict(
        session.execute(
            select(DispatchOffer.work_order_id, DispatchOffer.engineer_id).where(
                DispatchOffer.work_order_id.in_(ids), DispatchOffer.status == OfferStatus.PENDING
            )
        ).all()
    )
    latest = (
        select(DispatchDecision)
        .where(DispatchDecision.work_order_id.in_(ids))
        .order_by(
            DispatchDecision.work_order_id,
            DispatchDecision.decided_at.desc(),
            DispatchDecision.id.desc(),
        )
        .ext(distinct_on(DispatchDecision.work_order_id))
    )
    decisions = {d.work_order_id: d for d in session.scalars(latest)}
    return [
        QueueItem(
            w,
            places[w.asset_id],
            int((getattr(w, clock) - now).total_seconds()),
            pending.get(w.id),
            decisions.get(w.id),
        )
        for w in orders
    ]
