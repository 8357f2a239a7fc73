"""Sites with their location, the contacts there, and finding the nearest sites."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import InvalidInput
from crm.geo import make_point
from crm.models import Contact, Site
from crm.schemas import ContactCreate, SiteCreate
from crm.service._access import (
    add_audited,
    get_organization,
    get_record,
    require_own_org_or_staff,
)

SITE_FIELDS = ("id", "org_id", "name", "address", "location")
CONTACT_FIELDS = ("id", "org_id", "site_id", "full_name", "email", "phone", "job_title")


@dataclass(frozen=True, slots=True)
class NearbySite:
    site: Site
    distance_m: float


def create_site(session: Session, *, actor: Principal, data: SiteCreate) -> Site:
    """Add a site of an organization at the given coordinates."""
    require_own_org_or_staff(actor, data.org_id)
    get_organization(session, data.org_id)
    site = Site(
        org_id=data.org_id,
        name=data.name,
        address=data.address,
        location=make_point(lat=data.lat, lon=data.lon),
    )
    return add_audited(session, actor=actor, record=site, fields=SITE_FIELDS)


def create_contact(session: Session, *, actor: Principal, data: ContactCreate) -> Contact:
    """Add a contact person of an organization, optionally at one of its sites."""
    require_own_org_or_staff(actor, data.org_id)
    get_organization(session, data.org_id)
    if data.site_id is not None and get_record(session, Site, data.site_id).org_id != data.org_id:
        raise InvalidInput("The site belongs to another organization.", field="site_id")
    contact = Contact(**data.model_dump())
    return add_audited(session, actor=actor, record=contact, fields=CONTACT_FIELDS)


def nearest_sites(
    session: Session, *, lat: float, lon: float, limit: int = 10
) -> Sequence[NearbySite]:
    """Sites closest to a point, nearest first, with the distance in metres."""
    point = make_point(lat=lat, lon=lon)
    # <-> lets the GiST index drive the ordering (KNN) instead of sorting every site.
    rows = session.execute(
        select(Site, func.ST_Distance(Site.location, point))
        .order_by(Site.location.op("<->")(point))
        .limit(limit)
    ).all()
    return [NearbySite(site=site, distance_m=float(distance)) for site, distance in rows]
