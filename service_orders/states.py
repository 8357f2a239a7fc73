"""The work-order state machine: which transitions exist, and who may make them.

new -> offered -> accepted -> en_route -> on_site -> completed -> closed
with declined, reassigned, on_hold, cancelled, and overdue when the respond-by SLA passes
before anyone accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Action:
    """A button a person may press now: its kind (which form it posts), label and target."""

    kind: str  # "assign", "dispatch", "offer", "status" or "complete"
    label: str
    target: Status


# the engineer's status buttons, in the order of a visit
ENGINEER_STEPS = (
    (S.EN_ROUTE, "On my way"),
    (S.ON_SITE, "Arrived on site"),
    (S.ACCEPTED, "Resume"),
    (S.ON_HOLD, "Put on hold"),
)


def actions_now(
    status: str, *, staff: bool, assigned: bool = False, offer_pending: bool = False
) -> list[Action]:
    """What a dispatcher (`staff`) or the engineer may do with a work order in `status` now,
    derived from TRANSITIONS; pages show these and nothing else. `assigned`: an engineer holds
    it; `offer_pending`: an unexpired offer is out (to this engineer, on their pages)."""
    allowed = TRANSITIONS[Status(status)]
    if staff:
        return _staff_actions(allowed, assigned=assigned, offer_pending=offer_pending)
    if offer_pending:
        answers = TRANSITIONS[S.OFFERED] & allowed
        return [
            Action("offer", label, target)
            for target, label in ((S.ACCEPTED, "Accept"), (S.DECLINED, "Decline"))
            if target in answers
        ]
    if not assigned:
        return []
    actions = [
        Action("status", label, target)
        for target, label in ENGINEER_STEPS
        if target in allowed and target in BY_ENGINEER
    ]
    if S.COMPLETED in allowed:
        actions.append(Action("complete", "Complete job", S.COMPLETED))
    return actions


def _staff_actions(
    allowed: frozenset[Status], *, assigned: bool, offer_pending: bool
) -> list[Action]:
    actions = []
    # a held job is taken back (-> reassigned) before it is accepted by someone else
    if S.ACCEPTED in allowed or (
        S.REASSIGNED in allowed and S.ACCEPTED in TRANSITIONS[S.REASSIGNED]
    ):
        actions.append(Action("assign", "Reassign" if assigned else "Assign", S.ACCEPTED))
    if S.OFFERED in allowed and not offer_pending:
        actions.append(Action("dispatch", "Dispatch again", S.OFFERED))
    return actions
