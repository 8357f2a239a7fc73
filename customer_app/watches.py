"""Health watches: a customer is notified when a device's health drops below their threshold.

A watch on one device fires when its score is below the threshold. A watch on "all my
devices" covers the devices without a watch of their own and fires when any of them is
below. Either fires once: `triggered_at` is set, and cleared when every device it covers
is back at or above the threshold, which re-arms it. The worker checks every minute,
right after the health refresh (customer_app.jobs); scores change no faster than that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, aliased

from core.auth.principal import Principal
from core.auth.roles import Role
from core.db import utcnow
from core.errors import InvalidInput, NotFound, PermissionDenied
from crm.models import Asset, User
from crm.notifications import notify
from crm.service import get_asset
from customer_app.models import HealthWatch
from telemetry.health.models import AssetHealth


@dataclass(frozen=True, slots=True)
class WatchRow:
    """A watch as the customer's page lists it."""

    watch: HealthWatch
    serial: str | None  # None: all my devices


@dataclass(frozen=True, slots=True)
class _Low:
    asset_id: int
    serial: str
    score: int


def my_watches(session: Session, *, principal: Principal) -> list[WatchRow]:
    """The principal's watches, "all my devices" first, then by serial."""
    rows = session.execute(
        select(HealthWatch, Asset.serial)
        .outerjoin(Asset, Asset.id == HealthWatch.asset_id)
        .where(HealthWatch.user_id == principal.user_id)
        .order_by(HealthWatch.asset_id.is_not(None), Asset.serial)
    ).all()
    return [WatchRow(watch, serial) for watch, serial in rows]


def set_watch(
    session: Session, *, actor: Principal, asset_id: int | None, threshold: int
) -> HealthWatch:
    """Create or change the actor's watch on one device (or all of them); it re-arms."""
    if actor.role != Role.CUSTOMER:
        raise PermissionDenied("Health watches are for customers.")
    if not 1 <= threshold <= 100:
        raise InvalidInput("The threshold is a health score from 1 to 100.", field="threshold")
    if asset_id is not None:
        get_asset(session, principal=actor, asset_id=asset_id)  # NotFound for another's
    watch_id = session.scalar(
        pg_insert(HealthWatch)
        .values(user_id=actor.user_id, asset_id=asset_id, threshold=threshold)
        .on_conflict_do_update(
            index_elements=["user_id", "asset_id"],
            set_={"threshold": threshold, "triggered_at": None},
        )
        .returning(HealthWatch.id)
    )
    watch = session.get_one(HealthWatch, watch_id)
    session.refresh(watch)
    return watch


def remove_watch(session: Session, *, actor: Principal, watch_id: int) -> None:
    """Delete one of the actor's watches; anyone else's is NotFound."""
    watch = session.get(HealthWatch, watch_id)
    if watch is None or watch.user_id != actor.user_id:
        raise NotFound(f"No watch {watch_id}.", entity="health_watches")
    session.delete(watch)
    session.flush()


def check_watches(session: Session, *, now: datetime | None = None) -> int:
    """Notify the owners of watches that fell below their threshold; returns how many fired."""
    now = now or utcnow()
    lows: dict[int, list[_Low]] = {}
    locked = _active_watches().with_for_update(skip_locked=True)
    watches = {watch.id: watch for watch in session.scalars(locked)}
    for watch_id, asset_id, serial, score, threshold in session.execute(_covered_scores()):
        if watch_id in watches and score < threshold:
            lows.setdefault(watch_id, []).append(_Low(asset_id, serial, score))
    fired = 0
    for watch in watches.values():
        low = lows.get(watch.id, [])
        if low and watch.triggered_at is None:
            _notify(session, watch, low)
            watch.triggered_at = now
            fired += 1
        elif not low and watch.triggered_at is not None:
            watch.triggered_at = None  # recovered: the next drop notifies again
    session.flush()
    return fired


def _active_watches() -> Select[HealthWatch]:
    active_customer = select(User.id).where(User.is_active, User.role == Role.CUSTOMER)
    return select(HealthWatch).where(HealthWatch.user_id.in_(active_customer))


def _covered_scores() -> Select[int, int, str, int, int]:
    """(watch, asset, serial, score, threshold) for every device a watch covers now."""
    own = aliased(HealthWatch)
    has_own_watch = exists().where(own.user_id == HealthWatch.user_id, own.asset_id == Asset.id)
    covers = or_(
        HealthWatch.asset_id == Asset.id,
        and_(HealthWatch.asset_id.is_(None), ~has_own_watch),
    )
    return (
        select(HealthWatch.id, Asset.id, Asset.serial, AssetHealth.score, HealthWatch.threshold)
        .join(User, User.id == HealthWatch.user_id)
        # the tenant rule holds here too: only devices the watcher's organisation owns
        .join(Asset, and_(Asset.owner_org_id == User.org_id, covers))
        .join(AssetHealth, AssetHealth.asset_id == Asset.id)
    )


def _notify(session: Session, watch: HealthWatch, low: Sequence[_Low]) -> None:
    worst = min(low, key=lambda item: item.score)
    if watch.asset_id is not None:
        title = f"{worst.serial}: health {worst.score}, below your threshold {watch.threshold}"
        link = f"/customer/devices/{worst.asset_id}"
    else:
        title = f"{len(low)} device(s) below health {watch.threshold}, lowest {worst.serial}"
        link = "/customer"
    body = "\n".join(f"{item.serial}: health {item.score}" for item in low)
    body += "\n\nOpen the device to see why, and request service if it needs a visit."
    notify(session, user_ids=[watch.user_id], title=title, body=body, link=link)
