"""The work-order state machine: which transitions exist, and who may make them.

new -> offered -> accepted -> en_route -> on_site -> completed -> closed
with declined, reassigned, on_hold, cancelled, and overdue when the respond-by SLA passes
before anyone accepted.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import IllegalTransition


class Status(StrEnum):
    NEW = "new"
    OFFERED = "offered"
    DECLINED = "declined"
    REASSIGNED = "reassigned"
    OVERDUE = "overdue"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.OFFERED, S.ACCEPTED, S.OVERDUE, S.ON_HOLD, S.CANCELLED}),
    S.OFFERED: frozenset({S.ACCEPTED, S.DECLINED, S.REASSIGNED, S.OVERDUE, S.CANCELLED}),
    S.DECLINED: frozenset({S.OFFERED, S.ACCEPTED, S.OVERDUE, S.ON_HOLD, S.CANCELLED}),
    S.REASSIGNED: frozenset({S.OFFERED, S.ACCEPTED, S.OVERDUE, S.CANCELLED}),
    S.OVERDUE: frozenset({S.OFFERED, S.ACCEPTED, S.ON_HOLD, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.EN_ROUTE, S.REASSIGNED, S.ON_HOLD, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.ON_SITE, S.REASSIGNED, S.ON_HOLD, S.CANCELLED}),
    S.ON_SITE: frozenset({S.COMPLETED, S.ON_HOLD}),
    # a visit left half-done is put on hold and comes back to dispatch, never forgotten
    S.ON_HOLD: frozenset({S.NEW, S.ACCEPTED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# work orders still waiting for an engineer to take them
UNASSIGNED = frozenset({S.NEW, S.OFFERED, S.DECLINED, S.REASSIGNED, S.OVERDUE})
# an engineer holds the job (counts against max_concurrent_jobs)
HELD = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
FINISHED = frozenset({S.COMPLETED, S.CLOSED, S.CANCELLED})
OPEN = frozenset(Status) - FINISHED
# what the assigned engineer may do from their phone
BY_ENGINEER = frozenset({S.ACCEPTED, S.DECLINED, S.EN_ROUTE, S.ON_SITE, S.ON_HOLD, S.COMPLETED})


def check_transition(current: str, target: str) -> Status:
    """The target status if `current -> target` is allowed, else IllegalTransition."""
    try:
        source, goal = Status(current), Status(target)
    except ValueError as exc:
        raise IllegalTransition(f"Unknown work order status: {exc}") from exc
    if goal not in TRANSITIONS[source]:
        allowed = ", ".join(sorted(TRANSITIONS[source])) or "none (it is final)"
        raise IllegalTransition(
            f"A work order that is {source.value.replace('_', ' ')} cannot become "
            f"{goal.value.replace('_', ' ')}; allowed next: {allowed}.",
            current=source.value,
            target=goal.value,
        )
    return goal
