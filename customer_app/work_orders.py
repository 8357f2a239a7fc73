"""A customer's work orders: status, engineer and ETA while en route, certificates, surveys.

ETA: the engineer's last reported position to the site in a straight line (PostGIS
geography distance), times ROAD_FACTOR for the roads' detours, at AVERAGE_SPEED_KMH.
It is an estimate for the customer's planning, shown with the position's age; the
engineer's phone reports its location, so a stale position makes a stale estimate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from geoalchemy2 import WKBElement, WKTElement
from sqlalchemy import Float, Row, Select, func, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import utcnow
from core.errors import NotFound
from crm.geo import point_lat_lon
from crm.models import Asset, Site, User
from crm.service import asset_visibility
from customer_app.models import SatisfactionSurvey
from ledger.models import AnchorRequest
from service_orders.models import Engineer, ServiceCertificate, WorkOrder
from service_orders.states import FINISHED, Status

ROAD_FACTOR = 1.3
AVERAGE_SPEED_KMH = 50.0
DONE = frozenset({Status.COMPLETED, Status.CLOSED})
# what the ledger's request status means to a customer
VERIFICATION_LABELS = {
    "pending": "waiting to be anchored",
    "anchored": "anchored on the chain",
    "orphaned": "being anchored again",
}


@dataclass(frozen=True, slots=True)
class EngineerTrack:
    """Where the engineer on the way is and when they should arrive."""

    lat: float
    lon: float
    reported_at: datetime | None
    site_lat: float
    site_lon: float
    distance_km: float
    eta: datetime


@dataclass(frozen=True, slots=True)
class CustomerOrder:
    """A work order as the customer sees it."""

    work_order: WorkOrder
    serial: str
    site: str
    engineer: str | None
    track: EngineerTrack | None
    certificate_id: uuid.UUID | None
    verification: str | None
    surveyed: bool

    @property
    def is_open(self) -> bool:
        return self.work_order.status not in FINISHED

    @property
    def may_survey(self) -> bool:
        return self.work_order.status in DONE and not self.surveyed

    @property
    def verification_label(self) -> str:
        return VERIFICATION_LABELS.get(self.verification or "", "not issued yet")


def estimate_arrival(distance_m: float, *, now: datetime) -> datetime:
    """When an engineer `distance_m` away in a straight line should arrive (see module doc)."""
    hours = distance_m / 1000 * ROAD_FACTOR / AVERAGE_SPEED_KMH
    return now + timedelta(hours=hours)


def my_work_orders(
    session: Session, *, principal: Principal, asset_id: int | None = None, limit: int = 200
) -> list[CustomerOrder]:
    """The principal's visible work orders (of one asset, or all), newest first."""
    query = _orders(principal).order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
    if asset_id is not None:
        query = query.where(WorkOrder.asset_id == asset_id)
    return [_order(row) for row in session.execute(query.limit(limit))]


def my_work_order(session: Session, *, principal: Principal, work_order_id: int) -> CustomerOrder:
    """One visible work order; another organisation's is NotFound."""
    row = session.execute(_orders(principal).where(WorkOrder.id == work_order_id)).first()
    if row is None:
        raise NotFound(f"No work order {work_order_id}.", entity="work_orders")
    return _order(row)


_Point = WKBElement | WKTElement
_OrderRow = Row[
    WorkOrder, str, str, _Point, str | None, _Point | None, datetime | None, float | None,
    uuid.UUID | None, str | None, int | None,
]  # fmt: skip


def _orders(principal: Principal) -> Select[
    WorkOrder, str, str, _Point, str | None, _Point | None, datetime | None, float | None,
    uuid.UUID | None, str | None, int | None,
]:  # fmt: skip
    # outer joins: engineer, certificate, anchor and survey columns are None when absent
    distance = func.ST_Distance(Engineer.location, Site.location, type_=Float)
    return (
        select(
            WorkOrder,
            Asset.serial,
            Site.name,
            Site.location,
            User.full_name,
            Engineer.location,
            Engineer.location_at,
            distance,
            ServiceCertificate.id,
            AnchorRequest.status,
            SatisfactionSurvey.id,
        )
        .join(Asset, Asset.id == WorkOrder.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .outerjoin(Engineer, Engineer.id == WorkOrder.engineer_id)
        .outerjoin(User, User.id == Engineer.user_id)
        .outerjoin(ServiceCertificate, ServiceCertificate.work_order_id == WorkOrder.id)
        .outerjoin(AnchorRequest, AnchorRequest.id == ServiceCertificate.anchor_request_id)
        .outerjoin(SatisfactionSurvey, SatisfactionSurvey.work_order_id == WorkOrder.id)
        .where(asset_visibility(principal))
    )


def _order(row: _OrderRow) -> CustomerOrder:
    (order, serial, site, site_point, engineer, position, reported_at, distance,
     certificate_id, verification, survey_id) = row  # fmt: skip
    track = None
    if order.status == Status.EN_ROUTE and position is not None:
        lat, lon = point_lat_lon(position)
        site_lat, site_lon = point_lat_lon(site_point)
        metres = distance or 0.0
        track = EngineerTrack(
            lat=lat,
            lon=lon,
            reported_at=reported_at,
            site_lat=site_lat,
            site_lon=site_lon,
            distance_km=round(metres / 1000, 1),
            eta=estimate_arrival(metres, now=utcnow()),
        )
    return CustomerOrder(
        work_order=order,
        serial=serial,
        site=site,
        engineer=engineer,
        track=track,
        certificate_id=certificate_id,
        verification=verification,
        surveyed=survey_id is not None,
    )
