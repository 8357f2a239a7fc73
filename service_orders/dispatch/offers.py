"""Offer a work order to the best engineer; accept, decline, expire, or assign by hand.

Lock order everywhere: work order row, then offer row, then engineer row. Two workers
dispatching at once therefore meet on the work order, and an engineer's capacity is
re-checked under that engineer's row lock before the offer is made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.config import Settings, get_settings
from core.db import utcnow
from core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied
from crm.models import Asset, Site
from service_orders.dispatch.ranking import (
    Candidate,
    SitePoint,
    excluded_nearby,
    rank_candidates,
)
from service_orders.engineers import engineer_for_user
from service_orders.models import (
    DispatchDecision,
    DispatchOffer,
    Engineer,
    OfferStatus,
    WorkOrder,
)
from service_orders.states import HELD, UNASSIGNED, Status
from service_orders.workorders import move

_Row = TypeVar("_Row", WorkOrder, DispatchOffer, Engineer)
# an order waiting for an engineer, with no offer out
DISPATCHABLE = UNASSIGNED - {Status.OFFERED}


def dispatch(
    session: Session,
    *,
    work_order_id: int,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> DispatchDecision:
    """Decide who gets the work order, store why, and offer it (or escalate if nobody can)."""
    now = now or utcnow()
    settings = settings or get_settings()
    work_order, site, offered = _lock_for_dispatch(session, work_order_id)
    if work_order.status not in DISPATCHABLE or offered:
        raise Conflict(
            f"Work order {work_order.number} is {work_order.status}: nothing to dispatch.",
            code="not_dispatchable",
        )
    candidates = rank_candidates(
        session, work_order=work_order, now=now, pool=settings.dispatch_candidate_pool, site=site
    )
    chosen, lost = _claim_first_with_room(session, candidates)
    considered = [
        {**c.as_json(), "chosen": c is chosen, **({"lost_race": True} if c in lost else {})}
        for c in candidates
    ]
    excluded = excluded_nearby(
        session, work_order=work_order, now=now, sample=settings.dispatch_excluded_sample, site=site
    )
    decision = DispatchDecision(
        work_order_id=work_order.id,
        decided_at=now,
        engineer_id=chosen.engineer_id if chosen else None,
        candidates=considered + [e.as_json() for e in excluded],
        escalated=chosen is None,
    )
    session.add(decision)
    session.flush()
    if chosen is None:
        return decision  # stays unassigned: the dispatcher's queue shows it
    session.add(
        DispatchOffer(
            work_order_id=work_order.id,
            engineer_id=chosen.engineer_id,
            decision_id=decision.id,
            offered_at=now,
            expires_at=now + timedelta(seconds=settings.dispatch_offer_seconds),
            status=OfferStatus.PENDING,
        )
    )
    move(
        session,
        work_order,
        Status.OFFERED,
        actor=SYSTEM,
        note=f"offered to engineer {chosen.engineer_id} (score {chosen.score:.2f})",
    )
    return decision


def accept_offer(session: Session, *, actor: Principal, offer_id: int) -> DispatchOffer:
    """The offered engineer takes the job."""
    offer = _get_offer(session, offer_id)
    work_order = _lock_work_order(session, offer.work_order_id)
    offer = _get_offer(session, offer_id, lock=True)
    _check_answerable(session, actor, offer)
    offer.status = OfferStatus.ACCEPTED
    offer.answered_at = utcnow()
    work_order.engineer_id = offer.engineer_id
    move(session, work_order, Status.ACCEPTED, actor=actor, note="offer accepted")
    return offer


def decline_offer(
    session: Session, *, actor: Principal, offer_id: int, reason: str
) -> DispatchDecision:
    """The offered engineer declines; the next candidate gets the offer (or it escalates)."""
    offer = _get_offer(session, offer_id)
    work_order = _lock_work_order(session, offer.work_order_id)
    offer = _get_offer(session, offer_id, lock=True)
    _check_answerable(session, actor, offer)
    offer.status = OfferStatus.DECLINED
    offer.answered_at = utcnow()
    note = f"declined by engineer {offer.engineer_id}: {reason}".strip()
    _back_to_dispatch(session, actor=actor, work_order=work_order, note=note)
    return dispatch(session, work_order_id=work_order.id)


def expire_offers(
    session: Session, *, now: datetime | None = None, settings: Settings | None = None
) -> int:
    """Expire unanswered offers past their time and offer each order to the next candidate."""
    now = now or utcnow()
    due = session.execute(
        select(DispatchOffer.id, DispatchOffer.work_order_id)
        .where(DispatchOffer.status == OfferStatus.PENDING, DispatchOffer.expires_at <= now)
        .order_by(DispatchOffer.id)
    ).all()
    expired = 0
    for offer_id, work_order_id in due:
        work_order = session.scalar(
            select(WorkOrder)
            .where(WorkOrder.id == work_order_id)
            .with_for_update(skip_locked=True)  # someone is answering or dispatching it now
        )
        if work_order is None:
            continue
        offer = _get_offer(session, offer_id, lock=True)
        if offer.status != OfferStatus.PENDING:
            continue
        offer.status = OfferStatus.EXPIRED
        offer.answered_at = now
        note = f"offer to engineer {offer.engineer_id} expired unanswered"
        _back_to_dispatch(session, actor=SYSTEM, work_order=work_order, note=note)
        if work_order.status in DISPATCHABLE:
            dispatch(session, work_order_id=work_order.id, now=now, settings=settings)
        expired += 1
    return expired


def assign_by_hand(
    session: Session, *, actor: Principal, work_order_id: int, engineer_id: int
) -> WorkOrder:
    """A dispatcher gives the job to an engineer; a pending offer is withdrawn."""
    if not actor.is_staff:
        raise PermissionDenied("Only dispatchers assign work orders by hand.")
    work_order = _lock_work_order(session, work_order_id)
    engineer = _locked(session, Engineer, engineer_id)
    if engineer is None:
        raise NotFound(f"No engineer {engineer_id}.", entity="engineers")
    now = utcnow()
    pending = _pending_offer(session, work_order.id)
    if pending is not None:
        pending.status = OfferStatus.WITHDRAWN
        pending.answered_at = now
    load = _load(session, engineer_id)
    session.add(
        DispatchDecision(
            work_order_id=work_order.id,
            decided_at=now,
            engineer_id=engineer_id,
            candidates=[
                {
                    "engineer_id": engineer_id,
                    "chosen": True,
                    "by_hand": actor.user_id,
                    "load": load,
                    "capacity": engineer.max_concurrent_jobs,
                }
            ],
            escalated=False,
        )
    )
    if work_order.status in HELD:
        if work_order.engineer_id == engineer_id:
            raise Conflict("The engineer already holds this work order.", code="already_assigned")
        move(session, work_order, Status.REASSIGNED, actor=actor, note="by hand")
    work_order.engineer_id = engineer_id
    move(
        session,
        work_order,
        Status.ACCEPTED,
        actor=actor,
        note=f"assigned by hand to engineer {engineer_id}",
    )
    return work_order


def _claim_first_with_room(
    session: Session, candidates: list[Candidate]
) -> tuple[Candidate | None, list[Candidate]]:
    """Lock the best candidate's row and re-check capacity; on a lost race try the next."""
    lost: list[Candidate] = []
    for position, candidate in enumerate(candidates):
        # wait only for the first lock: holding one engineer lock while waiting for another
        # could deadlock two workers, so later candidates are skipped if someone holds them
        engineer = _locked(session, Engineer, candidate.engineer_id, skip_locked=position > 0)
        if engineer is None:
            lost.append(candidate)
            continue
        if engineer.status != "off_shift" and _load(session, engineer.id) < (
            engineer.max_concurrent_jobs
        ):
            return candidate, lost
        lost.append(candidate)
    return None, lost


def _pending_offer(session: Session, work_order_id: int) -> DispatchOffer | None:
    return session.scalar(
        select(DispatchOffer)
        .where(
            DispatchOffer.work_order_id == work_order_id,
            DispatchOffer.status == OfferStatus.PENDING,
        )
        .with_for_update()
    )


def _load(session: Session, engineer_id: int) -> int:
    held = select(func.count()).where(
        WorkOrder.engineer_id == engineer_id, WorkOrder.status.in_(sorted(HELD))
    )
    offered = select(func.count()).where(
        DispatchOffer.engineer_id == engineer_id, DispatchOffer.status == OfferStatus.PENDING
    )
    return int(session.scalar(select(held.scalar_subquery() + offered.scalar_subquery())) or 0)


def _lock_for_dispatch(session: Session, work_order_id: int) -> tuple[WorkOrder, SitePoint, bool]:
    """The locked work order, where its asset stands, and whether an offer is out (one trip)."""
    offered = (
        select(DispatchOffer.id)
        .where(
            DispatchOffer.work_order_id == WorkOrder.id,
            DispatchOffer.status == OfferStatus.PENDING,
        )
        .exists()
    )
    row = session.execute(
        select(
            WorkOrder,
            func.ST_Y(func.geometry(Site.location)),
            func.ST_X(func.geometry(Site.location)),
            offered,
        )
        .join(Asset, Asset.id == WorkOrder.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .where(WorkOrder.id == work_order_id)
        .with_for_update(of=WorkOrder)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No work order {work_order_id}.", entity="work_orders")
    work_order, lat, lon, is_offered = row
    return work_order, SitePoint(float(lat), float(lon)), bool(is_offered)


def _locked(
    session: Session, entity: type[_Row], row_id: int, *, skip_locked: bool = False
) -> _Row | None:
    """The row, locked FOR UPDATE and re-read (None if missing, or held with skip_locked)."""
    return session.scalar(
        select(entity)
        .where(entity.id == row_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )


def _lock_work_order(session: Session, work_order_id: int) -> WorkOrder:
    work_order = _locked(session, WorkOrder, work_order_id)
    if work_order is None:
        raise NotFound(f"No work order {work_order_id}.", entity="work_orders")
    return work_order


def _get_offer(session: Session, offer_id: int, *, lock: bool = False) -> DispatchOffer:
    offer = (
        _locked(session, DispatchOffer, offer_id) if lock else session.get(DispatchOffer, offer_id)
    )
    if offer is None:
        raise NotFound(f"No offer {offer_id}.", entity="dispatch_offers")
    return offer


def _check_answerable(session: Session, actor: Principal, offer: DispatchOffer) -> None:
    engineer = engineer_for_user(session, user_id=actor.user_id)
    if engineer is None or engineer.id != offer.engineer_id:
        raise PermissionDenied("Only the engineer it was offered to may answer an offer.")
    if offer.status != OfferStatus.PENDING:
        raise IllegalTransition(f"The offer is already {offer.status}.", code="offer_answered")
    if offer.expires_at <= utcnow():
        raise IllegalTransition("The offer has expired.", code="offer_expired")


def _back_to_dispatch(
    session: Session, *, actor: Principal, work_order: WorkOrder, note: str
) -> None:
    """An offer ended unanswered or declined: offered -> declined (overdue stays overdue)."""
    if work_order.status == Status.OFFERED:
        move(session, work_order, Status.DECLINED, actor=actor, note=note)
