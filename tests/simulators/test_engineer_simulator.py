"""An engineer simulator takes a real offer from the app, drives there and completes the job."""

from __future__ import annotations

import random

import pytest
from geoalchemy2 import Geometry
from sqlalchemy import cast, func, select
from sqlalchemy.orm import Session

from service_orders.models import Engineer
from simulators.config import EngineerSettings
from simulators.engineers import EngineerSimulator, Phase, distance_km
from simulators.web_session import WebSession
from tests.crm.factories import PASSWORD
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import SITE_LAT, SITE_LON
from tests.service_orders.page_factories import make_crew, offered

START = (SITE_LAT + 0.09, SITE_LON)  # 10 km north of the site


def where(db: Session, engineer: Engineer) -> tuple[float, float]:
    db.expire_all()
    point = cast(Engineer.location, Geometry)
    row = db.execute(
        select(func.ST_Y(point), func.ST_X(point)).where(Engineer.id == engineer.id)
    ).one()
    return (float(row[0]), float(row[1]))


def test_engineer_accepts_drives_and_completes_a_real_offer(browser: Browser, db: Session) -> None:
    crew = make_crew(db)
    work_order = offered(db, crew)
    now = [1_800_000_000.0]
    settings = EngineerSettings(start=START, speed_kmh=60, on_site_min=(40, 40), poll_s=1)
    web = WebSession(browser, crew.user(db, crew.ann).email, PASSWORD)
    engineer = EngineerSimulator(
        web, settings, clock=lambda: now[0], speed=60, rng=random.Random(1)
    )
    engineer.start()
    assert where(db, crew.ann) == pytest.approx(START)

    engineer.tick()  # sees the offer, accepts, reads where the site is, sets off
    db.refresh(work_order)
    assert (work_order.status, work_order.engineer_id) == ("en_route", crew.ann.id)
    assert engineer.phase is Phase.DRIVING
    assert engineer.trip is not None
    assert engineer.trip.destination == pytest.approx((SITE_LAT, SITE_LON))
    assert engineer.trip.duration_s == pytest.approx(distance_km(START, (SITE_LAT, SITE_LON)) * 60)

    now[0] += engineer.trip.duration_s / 2
    engineer.tick()
    halfway = where(db, crew.ann)
    assert distance_km(halfway, (SITE_LAT, SITE_LON)) == pytest.approx(5.0, abs=0.1)

    now[0] = engineer.trip.arrives
    engineer.tick()
    db.refresh(work_order)
    assert work_order.status == "on_site"
    assert where(db, crew.ann) == pytest.approx((SITE_LAT, SITE_LON))

    now[0] += 39 * 60
    engineer.tick()
    db.refresh(work_order)
    assert work_order.status == "on_site"  # forty minutes on site, not thirty-nine

    now[0] += 60
    engineer.tick()
    db.refresh(work_order)
    assert (work_order.status, work_order.outcome) == ("completed", "fixed")
    assert work_order.signature_png
    assert work_order.signature_png.startswith(b"\x89PNG")
    assert engineer.completed == [work_order.id]
    assert engineer.phase in {Phase.WAITING}  # (a set: mypy keeps the DRIVING narrowing)
