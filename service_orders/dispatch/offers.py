"""Offer a work order to the best engineer; accept, decline, expire, or assign by hand.

Lock order everywhere: work order row, then offer row, then engineer row. Two workers
dispatching at once therefore meet on the work order, and an engineer's capacity is
re-checked under that engineer's row lock before the offer is made.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, make_transient_to_detached

from core.auth.principal import SYSTEM, Principal
from core.config import Settings, get_settings
from core.db import utcnow
from core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied
from crm.audit import UPDATE, snapshot
from service_orders.dispatch.ranking import LOAD_SQL, Candidate, SitePoint, rank_and_exclude
from service_orders.engineers import engineer_for_user
from service_orders.models import (
    DispatchDecision,
    DispatchOffer,
    Engineer,
    OfferStatus,
    WorkOrder,
)
from service_orders.states import HELD, UNASSIGNED, Status, check_transition
from service_orders.workorders import AUDIT_FIELDS, ENTITY, move

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
    """Decide who gets the work order, store why, and offer it (or escalate if nobody can).

    The hot path is Core statements, four round trips when the best candidate has room:
    lock the order (with its site and whether an offer is out), rank + excluded sample, lock
    the engineer, then one statement that re-counts their load and, only if there is still
    room, writes decision, offer, status change, event and audit row together.
    """
    now = now or utcnow()
    settings = settings or get_settings()
    session.flush()  # the statements below must see the caller's pending changes
    order = session.execute(_LOCK_ORDER, {"id": work_order_id}).one_or_none()
    if order is None:
        raise NotFound(f"No work order {work_order_id}.", entity="work_orders")
    if order.status not in DISPATCHABLE or order.offered:
        raise Conflict(
            f"Work order {order.number} is {order.status}: nothing to dispatch.",
            code="not_dispatchable",
        )
    candidates, excluded = rank_and_exclude(
        session,
        work_order=order,
        now=now,
        site=SitePoint(float(order.lat), float(order.lon)),
        pool=settings.dispatch_candidate_pool,
        sample=settings.dispatch_excluded_sample,
    )
    excluded_json = [e.as_json() for e in excluded]
    lost: list[Candidate] = []
    for position, candidate in enumerate(candidates):
        considered = _considered(candidates, candidate, lost) + excluded_json
        decision_id = _offer_if_room(
            session,
            order=order,
            candidate=candidate,
            # wait only for the first lock: holding one engineer lock while waiting for
            # another could deadlock two workers, so later candidates are skipped if held
            skip_locked=position > 0,
            considered=considered,
            now=now,
            settings=settings,
        )
        if decision_id is not None:
            _expire_cached(session, WorkOrder, order.id)
            return _attached(
                session,
                DispatchDecision(
                    id=decision_id,
                    work_order_id=order.id,
                    decided_at=now,
                    engineer_id=candidate.engineer_id,
                    candidates=considered,
                    escalated=False,
                ),
            )
        lost.append(candidate)
    # nobody eligible (or everyone filled up meanwhile): the order stays unassigned and the
    # dispatcher's queue shows it
    considered = _considered(candidates, None, lost) + excluded_json
    decision_id = session.scalar(_ESCALATE, {"wo": order.id, "now": now, "candidates": considered})
    return _attached(
        session,
        DispatchDecision(
            id=decision_id,
            work_order_id=order.id,
            decided_at=now,
            engineer_id=None,
            candidates=considered,
            escalated=True,
        ),
    )


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


_ORDER_COLUMNS = ("id", *AUDIT_FIELDS, "required_family", "required_level")
# the work order's columns (module constants, never input) are filled in below
_LOCK_ORDER = text(
    (
        "SELECT $COLUMNS, ST_Y(s.location::geometry) AS lat, ST_X(s.location::geometry) AS lon,"
        " EXISTS (SELECT 1 FROM dispatch_offers o"
        "         WHERE o.work_order_id = w.id AND o.status = 'pending') AS offered"
        " FROM work_orders w JOIN assets a ON a.id = w.asset_id JOIN sites s ON s.id = a.site_id"
        " WHERE w.id = :id FOR UPDATE OF w"
    ).replace("$COLUMNS", ", ".join(f"w.{name}" for name in _ORDER_COLUMNS))
)
_LOCK_ENGINEER = text("SELECT id FROM engineers WHERE id = :id FOR UPDATE")
_LOCK_ENGINEER_SKIP = text("SELECT id FROM engineers WHERE id = :id FOR UPDATE SKIP LOCKED")
# Runs under the engineer's row lock, as a new statement: its snapshot sees every offer other
# workers committed for this engineer (they held the same lock while making it). Only if the
# engineer still has room are the decision, the offer, the status change `-> offered` and its
# event and audit row written, exactly as `workorders.move` would (the caller checked the
# transition and computed the audit snapshots); otherwise nothing is written and no id returned.
_OFFER = text(
    """
WITH room AS (
    SELECT true AS ok FROM engineers e
    WHERE e.id = :engineer_id AND e.status <> 'off_shift'
      AND ($LOAD) < e.max_concurrent_jobs
), decision AS (
    INSERT INTO dispatch_decisions (work_order_id, decided_at, engineer_id, candidates, escalated)
    SELECT :wo, :now, :engineer_id, :candidates, false FROM room
    RETURNING id
), offer AS (
    INSERT INTO dispatch_offers
        (work_order_id, engineer_id, decision_id, offered_at, expires_at, status)
    SELECT :wo, :engineer_id, decision.id, :now, :expires_at, :pending FROM decision
), moved AS (
    UPDATE work_orders SET status = :goal, updated_at = :moved_at
    WHERE id = :wo AND EXISTS (SELECT 1 FROM decision)
), event AS (
    INSERT INTO work_order_events (work_order_id, at, actor_user_id, from_status, to_status, note)
    SELECT :wo, :moved_at, NULL, :from_status, :goal, :note FROM decision
), audit AS (
    INSERT INTO audit_log
        (at, actor_user_id, actor_org_id, action, entity, entity_id, before, after)
    SELECT :moved_at, NULL, NULL, :action, :entity, :entity_id, :before, :after FROM decision
)
SELECT id FROM decision
""".replace("$LOAD", LOAD_SQL)
).bindparams(
    bindparam("candidates", type_=JSONB),
    bindparam("before", type_=JSONB),
    bindparam("after", type_=JSONB),
)
_ESCALATE = text(
    "INSERT INTO dispatch_decisions (work_order_id, decided_at, engineer_id, candidates, escalated)"
    " VALUES (:wo, :now, NULL, :candidates, true) RETURNING id"
).bindparams(bindparam("candidates", type_=JSONB))


def _offer_if_room(
    session: Session,
    *,
    order: Row[Any],
    candidate: Candidate,
    skip_locked: bool,
    considered: list[dict[str, Any]],
    now: datetime,
    settings: Settings,
) -> int | None:
    """Lock the candidate's row; if they still have room, offer them the order (decision id)."""
    lock = _LOCK_ENGINEER_SKIP if skip_locked else _LOCK_ENGINEER
    if session.execute(lock, {"id": candidate.engineer_id}).one_or_none() is None:
        return None  # gone, or another worker holds them (lost race)
    goal = check_transition(order.status, Status.OFFERED)
    before = snapshot(order, AUDIT_FIELDS)
    decision_id = session.scalar(
        _OFFER,
        {
            "engineer_id": candidate.engineer_id,
            "held": sorted(HELD),
            "wo": order.id,
            "now": now,
            # like `move`: the transition is stamped with the clock, not the caller's `now`
            # (the sweep passes its start time; the history must stay in order)
            "moved_at": utcnow(),
            "candidates": considered,
            "expires_at": now + timedelta(seconds=settings.dispatch_offer_seconds),
            "pending": OfferStatus.PENDING.value,
            "goal": goal.value,
            "from_status": order.status,
            "note": f"offered to engineer {candidate.engineer_id} (score {candidate.score:.2f})",
            "action": UPDATE,
            "entity": ENTITY,
            "entity_id": str(order.id),
            "before": before,
            "after": {**before, "status": goal.value},
        },
    )
    return None if decision_id is None else int(decision_id)


def _considered(
    candidates: list[Candidate], chosen: Candidate | None, lost: list[Candidate]
) -> list[dict[str, Any]]:
    return [
        {**c.as_json(), "chosen": c is chosen, **({"lost_race": True} if c in lost else {})}
        for c in candidates
    ]


def _attached(session: Session, decision: DispatchDecision) -> DispatchDecision:
    """The stored decision as a persistent ORM object, without reading it back."""
    make_transient_to_detached(decision)
    session.add(decision)
    return decision


def _expire_cached(session: Session, entity: type[WorkOrder], row_id: int) -> None:
    """A copy of the row the session holds is stale after a Core UPDATE: reload on next use."""
    cached = session.identity_map.get(session.identity_key(entity, row_id))
    if cached is not None:
        session.expire(cached)


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
