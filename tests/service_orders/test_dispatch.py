"""Dispatch: hard constraints, nearest first, offers that move on, escalation, hand assignment."""

from __future__ import annotations

import queue
import secrets
from datetime import date, timedelta

import orjson
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM, Principal
from core.config import get_settings
from core.db import utcnow
from core.errors import Conflict, IllegalTransition, PermissionDenied
from core.mqtt import Message, MqttClient
from crm.models import Organization, OrgKind, User
from service_orders.broker_accounts import dispatch_topic, engineer_username, issue_mqtt_secret
from service_orders.dispatch import (
    accept_offer,
    assign_by_hand,
    decline_offer,
    dispatch,
    expire_offers,
    publish_pending_offers,
    rank_candidates,
)
from service_orders.dispatch.sweep import waiting_work_orders
from service_orders.engineers import set_status
from service_orders.models import DispatchOffer, Engineer, OfferStatus, WorkOrder
from service_orders.states import Status
from service_orders.workorders import move
from tests.brokers import LocalBroker
from tests.crm.factories import make_org, principal_of
from tests.service_orders.dispatch_factories import (
    make_asset_at_site,
    make_engineer,
    make_work_order,
)


@pytest.fixture
def maker(db: Session) -> Organization:
    return make_org(db, kind=OrgKind.MANUFACTURER)


@pytest.fixture
def order(db: Session) -> WorkOrder:
    return make_work_order(db, asset=make_asset_at_site(db), level=2)


def as_engineer(db: Session, engineer: Engineer) -> Principal:
    user = db.get(User, engineer.user_id)
    assert user is not None
    return principal_of(user)


def ranked_ids(db: Session, order: WorkOrder) -> list[int]:
    return [c.engineer_id for c in rank_candidates(db, work_order=order, now=utcnow())]


def pending_offer(db: Session, order: WorkOrder) -> DispatchOffer:
    offer = db.scalar(
        select(DispatchOffer).where(
            DispatchOffer.work_order_id == order.id, DispatchOffer.status == OfferStatus.PENDING
        )
    )
    assert offer is not None
    return offer


def test_nearest_qualified_engineer_ranks_first(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    far = make_engineer(db, org=maker, km_north=30)
    near = make_engineer(db, org=maker, km_north=2)
    middle = make_engineer(db, org=maker, km_north=10)
    assert ranked_ids(db, order) == [near.id, middle.id, far.id]


@pytest.mark.parametrize(
    "unqualified",
    [
        {"family": "chiller"},
        {"level": 1},
        {"certified_until": date(2020, 1, 1)},
        {"on_shift": False},
        {"on_shift": False, "shift_starts_in": timedelta(hours=6)},  # after respond-by
    ],
    ids=["other family", "level too low", "certificate expired", "no shift", "shift too late"],
)
def test_each_hard_constraint_excludes(
    db: Session, maker: Organization, order: WorkOrder, unqualified: dict[str, object]
) -> None:
    qualified = make_engineer(db, org=maker, km_north=20)
    nearer = make_engineer(db, org=maker, km_north=1, **unqualified)  # type: ignore[arg-type]
    assert ranked_ids(db, order) == [qualified.id]
    decision = dispatch(db, work_order_id=order.id)
    assert decision.engineer_id == qualified.id
    excluded = {c["engineer_id"]: c["excluded"] for c in decision.candidates if "excluded" in c}
    assert nearer.id in excluded
    assert excluded[nearer.id]


def test_a_shift_starting_before_respond_by_counts(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    later = make_engineer(
        db, org=maker, km_north=1, on_shift=False, shift_starts_in=timedelta(hours=1)
    )
    assert ranked_ids(db, order) == [later.id]
    assert rank_candidates(db, work_order=order, now=utcnow())[0].wait_s > 3000


def test_off_shift_status_and_full_capacity_exclude(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    resting = make_engineer(db, org=maker, km_north=1)
    set_status(db, actor=SYSTEM, engineer_id=resting.id, status="off_shift")
    busy = make_engineer(db, org=maker, km_north=2, capacity=1)
    other = make_work_order(db, asset=make_asset_at_site(db))
    dispatch(db, work_order_id=other.id)  # busy gets that offer: its only slot
    assert pending_offer(db, other).engineer_id == busy.id
    assert ranked_ids(db, order) == []


def test_workload_breaks_a_near_tie(db: Session, maker: Organization, order: WorkOrder) -> None:
    loaded = make_engineer(db, org=maker, km_north=1.0, capacity=3)
    idle = make_engineer(db, org=maker, km_north=3.0)
    other = make_work_order(db, asset=make_asset_at_site(db))
    dispatch(db, work_order_id=other.id)
    assert pending_offer(db, other).engineer_id == loaded.id
    # 1 km + one job (5 km) scores worse than 3 km idle
    assert ranked_ids(db, order) == [idle.id, loaded.id]


def test_dispatch_offers_and_stores_why(db: Session, maker: Organization, order: WorkOrder) -> None:
    best = make_engineer(db, org=maker, km_north=1)
    second = make_engineer(db, org=maker, km_north=5)
    decision = dispatch(db, work_order_id=order.id)
    offer = pending_offer(db, order)
    assert (decision.engineer_id, offer.engineer_id, offer.decision_id) == (
        best.id,
        best.id,
        decision.id,
    )
    assert order.status == "offered"
    seconds = get_settings().dispatch_offer_seconds
    assert offer.expires_at - offer.offered_at == timedelta(seconds=seconds)
    scored = [c for c in decision.candidates if "score" in c]
    assert [c["engineer_id"] for c in scored] == [best.id, second.id]
    assert scored[0]["chosen"]
    assert not scored[1]["chosen"]
    assert 900 < scored[0]["metres"] < 1100
    with pytest.raises(Conflict):
        dispatch(db, work_order_id=order.id)  # already offered


def test_decline_moves_to_the_next_and_never_back(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    first = make_engineer(db, org=maker, km_north=1)
    second = make_engineer(db, org=maker, km_north=5)
    dispatch(db, work_order_id=order.id)
    decision = decline_offer(
        db, actor=as_engineer(db, first), offer_id=pending_offer(db, order).id, reason="too far"
    )
    assert decision.engineer_id == second.id
    assert pending_offer(db, order).engineer_id == second.id
    decision = decline_offer(
        db, actor=as_engineer(db, second), offer_id=pending_offer(db, order).id, reason=""
    )
    assert decision.escalated
    assert decision.engineer_id is None
    assert order.status == "declined"  # unassigned: the dispatcher's queue


def test_an_unanswered_offer_expires_to_the_next(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    first = make_engineer(db, org=maker, km_north=1)
    second = make_engineer(db, org=maker, km_north=5)
    dispatch(db, work_order_id=order.id)
    first_offer = pending_offer(db, order)
    assert expire_offers(db, now=utcnow()) == 0
    assert expire_offers(db, now=first_offer.expires_at + timedelta(seconds=1)) == 1
    assert first_offer.status == OfferStatus.EXPIRED
    assert pending_offer(db, order).engineer_id == second.id
    with pytest.raises(IllegalTransition):
        accept_offer(db, actor=as_engineer(db, first), offer_id=first_offer.id)
    assert first.id not in ranked_ids(db, order)


def test_nobody_eligible_escalates(db: Session, maker: Organization, order: WorkOrder) -> None:
    make_engineer(db, org=maker, family="chiller")
    decision = dispatch(db, work_order_id=order.id)
    assert decision.escalated
    assert decision.engineer_id is None
    assert order.status == "new"
    assert db.scalar(select(DispatchOffer).where(DispatchOffer.work_order_id == order.id)) is None


def test_only_the_offered_engineer_accepts(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    chosen = make_engineer(db, org=maker, km_north=1)
    other = make_engineer(db, org=maker, km_north=5)
    dispatch(db, work_order_id=order.id)
    offer = pending_offer(db, order)
    with pytest.raises(PermissionDenied):
        accept_offer(db, actor=as_engineer(db, other), offer_id=offer.id)
    accept_offer(db, actor=as_engineer(db, chosen), offer_id=offer.id)
    assert (order.status, order.engineer_id, offer.status) == ("accepted", chosen.id, "accepted")
    with pytest.raises(IllegalTransition):
        accept_offer(db, actor=as_engineer(db, chosen), offer_id=offer.id)


def test_dispatcher_assigns_by_hand_and_withdraws_the_offer(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    offered = make_engineer(db, org=maker, km_north=1)
    picked = make_engineer(db, org=maker, km_north=40, family="chiller")
    dispatch(db, work_order_id=order.id)
    offer = pending_offer(db, order)
    assert offer.engineer_id == offered.id
    with pytest.raises(PermissionDenied):
        assign_by_hand(
            db, actor=as_engineer(db, offered), work_order_id=order.id, engineer_id=offered.id
        )
    assign_by_hand(db, actor=SYSTEM, work_order_id=order.id, engineer_id=picked.id)
    assert offer.status == OfferStatus.WITHDRAWN
    assert (order.status, order.engineer_id) == ("accepted", picked.id)
    assign_by_hand(db, actor=SYSTEM, work_order_id=order.id, engineer_id=offered.id)
    assert (order.status, order.engineer_id) == ("accepted", offered.id)


def _phone(
    mqtt_broker: LocalBroker, engineer_id: int, secret: str, topic: str
) -> tuple[MqttClient, queue.Queue[Message]]:
    received: queue.Queue[Message] = queue.Queue()
    client = MqttClient(
        url=mqtt_broker.url,
        username=engineer_username(engineer_id),
        password=secret,
        client_id=f"phone-{engineer_id}-{secrets.token_hex(3)}",
        on_message=received.put,
    )
    client.subscribe(topic)
    client.connect()
    client.wait_subscribed()
    return client, received


def test_offer_reaches_only_the_engineers_phone_over_mqtt(
    db: Session, maker: Organization, order: WorkOrder, mqtt_broker: LocalBroker
) -> None:
    chosen = make_engineer(db, org=maker, km_north=1)
    snoop = make_engineer(db, org=maker, km_north=50, family="chiller")
    secrets_by_id = {
        e.id: issue_mqtt_secret(db, actor=SYSTEM, engineer_id=e.id) for e in (chosen, snoop)
    }
    mqtt_broker.add_accounts(
        {engineer_username(eid): secret for eid, secret in secrets_by_id.items()}
    )
    settings = get_settings().model_copy(
        update={
            "mqtt_url": mqtt_broker.url,
            "mqtt_worker_password": SecretStr(mqtt_broker.passwords["fieldcrm-worker"]),
        }
    )
    phone, inbox = _phone(
        mqtt_broker, chosen.id, secrets_by_id[chosen.id], dispatch_topic(chosen.id)
    )
    spy, spied = _phone(mqtt_broker, snoop.id, secrets_by_id[snoop.id], dispatch_topic(chosen.id))
    try:
        dispatch(db, work_order_id=order.id)
        offer = pending_offer(db, order)
        assert publish_pending_offers(db, settings) == 1
        message = inbox.get(timeout=5)
        body = orjson.loads(message.payload)
        assert message.topic == f"engineers/eng-{chosen.id}/dispatch"
        assert body["offer_id"] == offer.id
        assert body["work_order"]["number"] == order.number
        assert body["site"]["lat"] == pytest.approx(48.137)
        assert offer.published_at is not None
        assert publish_pending_offers(db, settings) == 0  # sent once
        with pytest.raises(queue.Empty):
            spied.get(timeout=1)  # the ACL keeps another engineer off this topic
    finally:
        phone.close()
        spy.close()


def test_the_sweep_retries_an_escalated_order_only_after_a_while(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    now = utcnow()
    assert order.id in waiting_work_orders(db, now=now)
    dispatch(db, work_order_id=order.id, now=now)  # nobody: escalated
    assert order.id not in waiting_work_orders(db, now=now + timedelta(minutes=1))
    assert order.id in waiting_work_orders(db, now=now + timedelta(minutes=6))
    make_engineer(db, org=maker)
    dispatch(db, work_order_id=order.id)
    assert order.id not in waiting_work_orders(db, now=now + timedelta(minutes=6))  # offered


def test_only_the_offered_engineer_declines(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    offered = make_engineer(db, org=maker, km_north=1)
    other = make_engineer(db, org=maker, km_north=5)
    dispatch(db, work_order_id=order.id)
    offer = pending_offer(db, order)
    with pytest.raises(PermissionDenied):
        decline_offer(db, actor=as_engineer(db, other), offer_id=offer.id, reason="mine now")
    assert (offer.status, offer.engineer_id) == ("pending", offered.id)


def test_an_overdue_order_stays_overdue_when_its_offer_expires(
    db: Session, maker: Organization, order: WorkOrder
) -> None:
    make_engineer(db, org=maker, km_north=1)
    second = make_engineer(db, org=maker, km_north=5)
    dispatch(db, work_order_id=order.id)
    first_offer = pending_offer(db, order)
    move(db, order, Status.OVERDUE, actor=SYSTEM, note="respond-by passed")
    assert expire_offers(db, now=first_offer.expires_at + timedelta(seconds=1)) == 1
    assert order.status == "offered"  # overdue -> offered to the next engineer
    assert pending_offer(db, order).engineer_id == second.id
