"""The engineer's finished jobs, newest first, each with its signed service report."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.listing import ListPage, ListParams, fetch_page
from crm.models import Asset, Site
from service_orders.models import ServiceCertificate, WorkOrder
from service_orders.states import Status
from service_orders.workorders import OUTCOMES

FINISHED_JOBS = (Status.COMPLETED.value, Status.CLOSED.value)
HISTORY_SORTS = ("completed", "number")
HISTORY_FILTERS = {"outcome": OUTCOMES}


@dataclass(frozen=True, slots=True)
class PastJob:
    """One finished job as the history lists it; `certificate_id` once its report is issued."""

    id: int
    number: str
    title: str
    type: str
    status: str
    outcome: str | None
    completed_at: datetime | None
    serial: str
    site_name: str
    certificate_id: uuid.UUID | None


def job_history(session: Session, *, engineer_id: int, params: ListParams) -> ListPage[PastJob]:
    """One page of the engineer's completed and closed jobs, searched by work-order number,
    site or serial and filtered by outcome; the most recently completed first."""
    query = (
        select(
            WorkOrder.id,
            WorkOrder.number,
            WorkOrder.title,
            WorkOrder.type,
            WorkOrder.status,
            WorkOrder.outcome,
            WorkOrder.completed_at,
            Asset.serial,
            Site.name,
            ServiceCertificate.id,
        )
        .join(Asset, Asset.id == WorkOrder.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .outerjoin(ServiceCertificate, ServiceCertificate.work_order_id == WorkOrder.id)
        .where(WorkOrder.engineer_id == engineer_id, WorkOrder.status.in_(FINISHED_JOBS))
    )
    if params.search:
        words = f"%{params.search}%"
        query = query.where(
            or_(WorkOrder.number.ilike(words), Site.name.ilike(words), Asset.serial.ilike(words))
        )
    if outcome := params.filters.get("outcome"):
        query = query.where(WorkOrder.outcome == outcome)
    column = WorkOrder.number if params.sort == "number" else WorkOrder.completed_at
    order = column.desc().nulls_last() if params.descending else column.asc().nulls_last()
    rows, total = fetch_page(session, query.order_by(order, WorkOrder.id.desc()), params)
    return ListPage([PastJob(*row) for row in rows], total, params)
