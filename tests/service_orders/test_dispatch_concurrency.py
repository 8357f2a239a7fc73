"""Two workers dispatching at once, each on its own committed connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.config import get_settings
from core.errors import Conflict
from crm.models import OrgKind
from service_orders.dispatch import dispatch
from service_orders.dispatch.live import run_dispatch_wakeups
from service_orders.models import DispatchDecision, DispatchOffer, OfferStatus
from tests.brokers import LocalBroker
from tests.crm.factories import make_org
from tests.service_orders.dispatch_factories import (
    make_asset_at_site,
    make_engineer,
    make_work_order,
)

CAPACITY = 2


@dataclass
class World:
    engineer_id: int
    work_order_ids: list[int]


@pytest.fixture
def world(db_engine: Engine) -> Iterator[World]:
    """One engineer (capacity 2) and six work orders nearby, committed; removed afterwards."""
    with Session(db_engine) as session:
        maker = make_org(session, kind=OrgKind.MANUFACTURER)
        engineer = make_engineer(session, org=maker, km_north=1, capacity=CAPACITY)
        asset = make_asset_at_site(session)
        orders = [make_work_order(session, asset=asset) for _ in range(6)]
        session.commit()
        made = World(engineer.id, [o.id for o in orders])
        ids = {
            "wo": made.work_order_ids,
            "eng": engineer.id,
            "user": engineer.user_id,
            "asset": asset.id,
            "site": asset.site_id,
            "model": asset.product_model_id,
            "orgs": [maker.id, asset.owner_org_id],
        }
    try:
        yield made
    finally:
        _remove(db_engine, ids)


def _remove(engine: Engine, ids: dict[str, object]) -> None:
    statements = [
        "DELETE FROM dispatch_offers WHERE work_order_id = ANY(:wo)",
        "DELETE FROM dispatch_decisions WHERE work_order_id = ANY(:wo)",
        "DELETE FROM work_order_events WHERE work_order_id = ANY(:wo)",
        "DELETE FROM work_orders WHERE id = ANY(:wo)",
        "DELETE FROM engineers WHERE id = :eng",
        "DELETE FROM users WHERE id = :user",
        "DELETE FROM assets WHERE id = :asset",
        "DELETE FROM sites WHERE id = :site",
        "DELETE FROM metric_definitions WHERE product_model_id = :model",
        "DELETE FROM product_models WHERE id = :model",
        "DELETE FROM organizations WHERE id = ANY(:orgs)",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), ids)


def _run_two_workers(engine: Engine, batches: list[list[int]]) -> list[BaseException]:
    start = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def worker(batch: list[int]) -> None:
        start.wait()
        for work_order_id in batch:
            with Session(engine) as session:
                try:
                    dispatch(session, work_order_id=work_order_id)
                    session.commit()
                except Conflict:
                    session.rollback()
                except Exception as exc:  # noqa: BLE001  # surfaced to the test below
                    errors.append(exc)

    threads = [threading.Thread(target=worker, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def _pending(engine: Engine, engineer_id: int) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    DispatchOffer.engineer_id == engineer_id,
                    DispatchOffer.status == OfferStatus.PENDING,
                )
            )
            or 0
        )


def test_two_workers_never_offer_an_engineer_beyond_capacity(
    db_engine: Engine, world: World
) -> None:
    first, second = world.work_order_ids[::2], world.work_order_ids[1::2]
    assert _run_two_workers(db_engine, [first, second]) == []
    assert _pending(db_engine, world.engineer_id) == CAPACITY
    with Session(db_engine) as session:
        escalated = session.scalar(
            select(func.count()).where(
                DispatchDecision.work_order_id.in_(world.work_order_ids),
                DispatchDecision.escalated,
            )
        )
    assert escalated == len(world.work_order_ids) - CAPACITY


def test_two_workers_on_the_same_order_make_one_offer(db_engine: Engine, world: World) -> None:
    same = world.work_order_ids[:1]
    assert _run_two_workers(db_engine, [same, same]) == []
    with Session(db_engine) as session:
        offers = session.scalar(select(func.count()).where(DispatchOffer.work_order_id == same[0]))
        decisions = session.scalar(
            select(func.count()).where(DispatchDecision.work_order_id == same[0])
        )
    assert (offers, decisions) == (1, 1)


def test_the_wakeup_loop_dispatches_waiting_orders_and_publishes(
    db_engine: Engine, world: World, mqtt_broker: LocalBroker, test_database_url: str
) -> None:
    settings = get_settings().model_copy(
        update={
            "database_url": test_database_url,
            "mqtt_url": mqtt_broker.url,
            "mqtt_worker_password": SecretStr(mqtt_broker.passwords["fieldcrm-worker"]),
        }
    )
    stop = threading.Event()
    thread = threading.Thread(
        target=run_dispatch_wakeups, args=(settings, sessionmaker(bind=db_engine), stop)
    )
    thread.start()
    try:
        time.sleep(0.5)  # LISTEN is in place (its catch-up wake-up may already dispatch)
        with db_engine.begin() as conn:
            conn.execute(text("SELECT pg_notify('work_orders', :id)"), {"id": "0"})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _published(db_engine, world) < CAPACITY:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert _published(db_engine, world) == CAPACITY


def _published(engine: Engine, world: World) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    DispatchOffer.engineer_id == world.engineer_id,
                    DispatchOffer.published_at.is_not(None),
                )
            )
            or 0
        )
