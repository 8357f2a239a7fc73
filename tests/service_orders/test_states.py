"""The work-order state machine refuses what makes no sense and allows the real paths."""

from __future__ import annotations

import itertools

import pytest

from core.errors import IllegalTransition
from service_orders.states import FINISHED, HELD, TRANSITIONS, UNASSIGNED, Status, check_transition

HAPPY_PATH = ["new", "offered", "accepted", "en_route", "on_site", "completed", "closed"]


def test_the_happy_path_is_allowed_step_by_step() -> None:
    for current, target in itertools.pairwise(HAPPY_PATH):
        assert check_transition(current, target) == Status(target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("new", "completed"),
        ("offered", "on_site"),
        ("closed", "new"),
        ("cancelled", "offered"),
        ("completed", "on_site"),
        ("on_site", "cancelled"),
    ],
)
def test_illegal_transitions_are_refused_with_what_is_allowed(current: str, target: str) -> None:
    with pytest.raises(IllegalTransition, match="allowed next"):
        check_transition(current, target)


def test_unknown_status_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="Unknown"):
        check_transition("new", "teleported")


def test_a_half_done_visit_goes_on_hold_and_back_to_dispatch() -> None:
    assert check_transition("on_site", "on_hold") == Status.ON_HOLD
    assert check_transition("on_hold", "new") == Status.NEW


def test_every_status_is_reachable_from_new_and_final_ones_are_final() -> None:
    seen, frontier = {Status.NEW}, [Status.NEW]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(Status)
    assert all(not TRANSITIONS[s] for s in (Status.CLOSED, Status.CANCELLED))
    assert not (UNASSIGNED & HELD)
    assert not (HELD & FINISHED)
