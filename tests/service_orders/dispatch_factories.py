"""Builders for dispatch tests: engineers with skills and shifts, work orders at a site."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.db import utcnow
from crm.models import Asset, Organization
from service_orders.engineers import SkillIn, add_shift, create_engineer
from service_orders.models import Engineer, WorkOrder
from tests.crm.factories import make_asset, make_org, make_product_model, make_site, make_user

SITE_LAT, SITE_LON = 48.137, 11.575
_numbers = itertools.count(1)


def make_engineer(
    db: Session,
    *,
    org: Organization,
    km_north: float = 1.0,
    family: str = "compressor",
    level: int = 2,
    certified_until: date | None = None,
    on_shift: bool = True,
    shift_starts_in: timedelta | None = None,
    capacity: int = 2,
    skills: Sequence[SkillIn] | None = None,
) -> Engineer:
    """An engineer `km_north` kilometres north of the test site, on shift unless told not."""
    user = make_user(db, org=org, role=Role.ENGINEER)
    engineer = create_engineer(
        db,
        actor=SYSTEM,
        user_id=user.id,
        home_lat=SITE_LAT + km_north / 111.2,
        home_lon=SITE_LON,
        skills=list(skills)
        if skills is not None
        else [SkillIn(family=family, level=level, certified_until=certified_until)],
        max_concurrent_jobs=capacity,
    )
    now = utcnow()
    if on_shift:
        add_shift(
            db,
            actor=SYSTEM,
            engineer_id=engineer.id,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=7),
        )
    elif shift_starts_in is not None:
        start = now + shift_starts_in
        add_shift(
            db,
            actor=SYSTEM,
            engineer_id=engineer.id,
            starts_at=start,
            ends_at=start + timedelta(hours=8),
        )
    return engineer


def make_asset_at_site(db: Session, *, family: str = "compressor") -> Asset:
    customer = make_org(db)
    site = make_site(db, org=customer, lat=SITE_LAT, lon=SITE_LON)
    return make_asset(
        db, owner=customer, site=site, product_model=make_product_model(db, family=family)
    )


def make_work_order(
    db: Session,
    *,
    asset: Asset,
    family: str = "compressor",
    level: int = 1,
    priority: int = 2,
    respond_in: timedelta = timedelta(hours=4),
    now: datetime | None = None,
) -> WorkOrder:
    """An unassigned corrective work order (written directly: dispatch needs only the row)."""
    now = now or utcnow()
    work_order = WorkOrder(
        number=f"T-{next(_numbers):06d}-{asset.id}",
        type="corrective",
        source="manual",
        asset_id=asset.id,
        priority=priority,
        status="new",
        title="Oil temperature rising",
        required_family=family,
        required_level=level,
        respond_by=now + respond_in,
        resolve_by=now + respond_in + timedelta(hours=24),
    )
    db.add(work_order)
    db.flush()
    return work_order
