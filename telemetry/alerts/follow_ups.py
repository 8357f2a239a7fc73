"""What was done about an alert elsewhere (the work order service_orders raised for it), as
the alerts list shows it.

telemetry may not import service_orders (it points the other way), so service_orders registers
a finder here, the way packages register their labels; without one, alerts have no follow-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class AlertFollowUp:
    """The record raised for an alert: its number, its status (code and words), where to see it."""

    number: str
    status: str
    state: str
    url: str | None


FollowUpFinder = Callable[[Session, Sequence[int]], Mapping[int, AlertFollowUp]]
_finders: dict[str, FollowUpFinder] = {}


def register_follow_ups(name: str, finder: FollowUpFinder) -> None:
    """Let another package say what it raised for alerts (registered again, it is replaced)."""
    _finders[name] = finder


def follow_ups(session: Session, alert_ids: Sequence[int]) -> dict[int, AlertFollowUp]:
    """The follow-up of each of these alerts that has one."""
    found: dict[int, AlertFollowUp] = {}
    if not alert_ids:
        return found
    for finder in _finders.values():
        for alert_id, follow_up in finder(session, alert_ids).items():
            found.setdefault(alert_id, follow_up)
    return found
