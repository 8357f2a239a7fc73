"""Which assets a service engineer may see and work on.

An engineer sees the machines of the jobs offered or given to them, not the whole fleet.
Offers and jobs are service_orders' records, a package above crm, so service_orders tells
crm at import how to find them (`register_engineer_reach`); until it has, an engineer
reaches nothing, so a process that never loads service_orders fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.sql import false

from core.auth.principal import Principal
from crm.models import Asset

AssetIds = Callable[[Principal], Select[int]]


@dataclass(frozen=True, slots=True)
class EngineerReach:
    """Two queries of asset ids for an engineer principal."""

    seen: AssetIds  # the assets of their pending offers and of every job given to them
    working_on: AssetIds  # the assets of their jobs not yet finished (they may clear alerts)


def _nothing(principal: Principal) -> Select[int]:
    return select(Asset.id).where(false())


_reach = EngineerReach(seen=_nothing, working_on=_nothing)


def register_engineer_reach(reach: EngineerReach) -> None:
    """Called once by service_orders: how to find an engineer's offers and jobs."""
    global _reach
    _reach = reach


def assets_seen_by_engineer(principal: Principal) -> Select[int]:
    return _reach.seen(principal)


def assets_worked_on_by_engineer(principal: Principal) -> Select[int]:
    return _reach.working_on(principal)
