"""Tells crm which assets an engineer reaches: those of their pending offers and their jobs."""

from __future__ import annotations

from sqlalchemy import Select, select, union

from core.auth.principal import Principal
from crm.service import EngineerReach, register_engineer_reach
from service_orders.models import DispatchOffer, Engineer, OfferStatus, WorkOrder
from service_orders.states import FINISHED


def _engineer_of(principal: Principal) -> Select[int]:
    return select(Engineer.id).where(Engineer.user_id == principal.user_id)


def assets_seen(principal: Principal) -> Select[int]:
    """Pending offers and every job ever given to them (their history links to its asset)."""
    engineer = _engineer_of(principal).scalar_subquery()
    offered = (
        select(WorkOrder.asset_id)
        .join(DispatchOffer, DispatchOffer.work_order_id == WorkOrder.id)
        .where(DispatchOffer.engineer_id == engineer, DispatchOffer.status == OfferStatus.PENDING)
    )
    given = select(WorkOrder.asset_id).where(WorkOrder.engineer_id == engineer)
    return select(union(offered, given).subquery().c.asset_id)


def assets_worked_on(principal: Principal) -> Select[int]:
    """Jobs given to them and not finished: there they may clear the machine's alerts."""
    engineer = _engineer_of(principal).scalar_subquery()
    return select(WorkOrder.asset_id).where(
        WorkOrder.engineer_id == engineer, WorkOrder.status.not_in(FINISHED)
    )


register_engineer_reach(EngineerReach(seen=assets_seen, working_on=assets_worked_on))
