"""Engineers: who may be one, skills, shifts, live location, status, and their broker accounts."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.broker import (
    SERVICE_USER_PREFIX,
    mosquitto_hash,
    read_password_file,
    verify_mosquitto_hash,
    write_password_file,
)
from core.config import get_settings
from core.errors import Conflict, InvalidInput, PermissionDenied
from core.mqtt import MqttClient
from crm.geo import point_lat_lon
from crm.models import Organization, OrgKind, User
from service_orders.broker_accounts import (
    engineer_username,
    handle_location_message,
    issue_mqtt_secret,
    location_topic,
    run_location_listener,
    sync_engineer_accounts,
)
from service_orders.engineers import (
    SkillIn,
    add_shift,
    create_engineer,
    engineer_for_user,
    set_skills,
    set_status,
    skills_of,
    update_location,
)
from service_orders.models import EngineerStatus
from telemetry.devices import provision_device, sync_broker
from tests.brokers import LocalBroker
from tests.crm.factories import make_asset, make_org, make_user, principal_of
from tests.service_orders.dispatch_factories import make_engineer

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
def maker(db: Session) -> Organization:
    return make_org(db, kind=OrgKind.MANUFACTURER)


def test_engineer_starts_at_home_base_with_skills(db: Session, maker: Organization) -> None:
    user = make_user(db, org=maker, role=Role.ENGINEER)
    skills = [SkillIn(family="compressor", level=3, certified_until=date(2027, 1, 1))]
    engineer = create_engineer(
        db, actor=SYSTEM, user_id=user.id, home_lat=48.1, home_lon=11.5, skills=skills
    )
    db.refresh(engineer)
    assert point_lat_lon(engineer.location) == pytest.approx((48.1, 11.5))
    assert point_lat_lon(engineer.home_base) == pytest.approx((48.1, 11.5))
    assert engineer.status == EngineerStatus.AVAILABLE
    assert [(s.family, s.level) for s in skills_of(db, engineer_id=engineer.id)] == [
        ("compressor", 3)
    ]
    assert engineer_for_user(db, user_id=user.id) is engineer


def test_only_a_user_with_role_engineer_becomes_one(db: Session, maker: Organization) -> None:
    admin = make_user(db, org=maker, role=Role.ADMIN)
    with pytest.raises(InvalidInput):
        create_engineer(db, actor=SYSTEM, user_id=admin.id, home_lat=48, home_lon=11, skills=[])


def test_a_user_becomes_an_engineer_once(db: Session, maker: Organization) -> None:
    engineer = make_engineer(db, org=maker)
    with pytest.raises(Conflict):
        create_engineer(
            db, actor=SYSTEM, user_id=engineer.user_id, home_lat=48, home_lon=11, skills=[]
        )


def test_engineers_cannot_create_engineers(db: Session, maker: Organization) -> None:
    user = make_user(db, org=maker, role=Role.ENGINEER)
    with pytest.raises(PermissionDenied):
        create_engineer(
            db, actor=principal_of(user), user_id=user.id, home_lat=48, home_lon=11, skills=[]
        )


def test_set_skills_replaces_the_old_ones(db: Session, maker: Organization) -> None:
    engineer = make_engineer(db, org=maker, family="compressor")
    set_skills(
        db,
        actor=SYSTEM,
        engineer_id=engineer.id,
        skills=[SkillIn(family="chiller", level=1), SkillIn(family="pump", level=2)],
    )
    assert [s.family for s in skills_of(db, engineer_id=engineer.id)] == ["chiller", "pump"]


def test_overlapping_shifts_are_refused(db: Session, maker: Organization) -> None:
    engineer = make_engineer(db, org=maker, on_shift=False)
    add_shift(
        db, actor=SYSTEM, engineer_id=engineer.id, starts_at=NOW, ends_at=NOW + timedelta(hours=8)
    )
    with pytest.raises(Conflict):
        add_shift(
            db,
            actor=SYSTEM,
            engineer_id=engineer.id,
            starts_at=NOW + timedelta(hours=7),
            ends_at=NOW + timedelta(hours=9),
        )
    # back to back is fine (half-open periods)
    add_shift(
        db,
        actor=SYSTEM,
        engineer_id=engineer.id,
        starts_at=NOW + timedelta(hours=8),
        ends_at=NOW + timedelta(hours=9),
    )
    with pytest.raises(InvalidInput):
        add_shift(db, actor=SYSTEM, engineer_id=engineer.id, starts_at=NOW, ends_at=NOW)


def test_an_older_location_report_does_not_move_the_engineer_back(
    db: Session, maker: Organization
) -> None:
    engineer = make_engineer(db, org=maker)
    update_location(db, engineer_id=engineer.id, lat=48.2, lon=11.6, at=NOW)
    update_location(db, engineer_id=engineer.id, lat=47.0, lon=10.0, at=NOW - timedelta(minutes=1))
    db.refresh(engineer)
    assert point_lat_lon(engineer.location) == pytest.approx((48.2, 11.6))
    assert engineer.location_at == NOW
    with pytest.raises(InvalidInput):
        update_location(db, engineer_id=engineer.id, lat=91, lon=0, at=NOW + timedelta(minutes=1))


def test_location_from_the_phone_topic(db: Session, maker: Organization) -> None:
    engineer = make_engineer(db, org=maker)
    payload = orjson.dumps({"lat": 48.3, "lon": 11.7, "at": NOW.isoformat()})
    handle_location_message(
        db,
        topic=location_topic(engineer.id),
        payload=payload,
        received_at=NOW + timedelta(seconds=1),
    )
    db.refresh(engineer)
    assert point_lat_lon(engineer.location) == pytest.approx((48.3, 11.7))
    with pytest.raises(InvalidInput):
        handle_location_message(db, topic="engineers/7/location", payload=payload)
    with pytest.raises(InvalidInput):
        handle_location_message(db, topic=location_topic(engineer.id), payload=b"{")


def test_an_engineer_sets_only_their_own_status(db: Session, maker: Organization) -> None:
    alice = make_engineer(db, org=maker)
    bob = make_engineer(db, org=maker)
    alice_user = db.get(User, alice.user_id)
    assert alice_user is not None
    as_alice = principal_of(alice_user)
    set_status(db, actor=as_alice, engineer_id=alice.id, status="off_shift")
    assert alice.status == EngineerStatus.OFF_SHIFT
    with pytest.raises(PermissionDenied):
        set_status(db, actor=as_alice, engineer_id=bob.id, status="off_shift")
    with pytest.raises(InvalidInput):
        set_status(db, actor=SYSTEM, engineer_id=bob.id, status="asleep")


def test_engineer_secret_is_returned_once_and_stored_hashed(
    db: Session, maker: Organization
) -> None:
    engineer = make_engineer(db, org=maker)
    secret = issue_mqtt_secret(db, actor=SYSTEM, engineer_id=engineer.id)
    assert engineer.mqtt_secret_hash is not None
    assert secret not in engineer.mqtt_secret_hash
    assert verify_mosquitto_hash(secret, engineer.mqtt_secret_hash)


def test_device_and_engineer_syncs_keep_each_others_accounts(
    db: Session,
    maker: Organization,
    tmp_path: Path,
) -> None:
    passwd = tmp_path / "passwd"
    service = f"{SERVICE_USER_PREFIX}worker"
    write_password_file(passwd, {service: mosquitto_hash("x"), "eng-999999": "stale"})
    engineer = make_engineer(db, org=maker)
    issue_mqtt_secret(db, actor=SYSTEM, engineer_id=engineer.id)
    customer = make_org(db)
    device = provision_device(db, actor=SYSTEM, asset_id=make_asset(db, owner=customer).id).device

    sync_engineer_accounts(db, passwd=passwd, pid_file=None)
    sync_broker(db, passwd=passwd, pid_file=None)
    accounts = read_password_file(passwd)

    assert service in accounts
    assert engineer_username(engineer.id) in accounts
    assert device.key in accounts
    assert "eng-999999" not in accounts  # engineers' sync replaced its class


def test_a_device_key_may_not_look_like_an_engineer(db: Session) -> None:
    customer = make_org(db)
    asset = make_asset(db, owner=customer)
    with pytest.raises(InvalidInput):
        provision_device(db, actor=SYSTEM, asset_id=asset.id, key="eng-1")


def test_phone_location_over_mqtt_moves_the_engineer(
    db: Session, maker: Organization, mqtt_broker: LocalBroker
) -> None:
    engineer = make_engineer(db, org=maker)
    secret = issue_mqtt_secret(db, actor=SYSTEM, engineer_id=engineer.id)
    mqtt_broker.add_account(engineer_username(engineer.id), secret)
    settings = get_settings().model_copy(
        update={
            "mqtt_url": mqtt_broker.url,
            "mqtt_worker_password": SecretStr(mqtt_broker.passwords["fieldcrm-worker"]),
        }
    )
    # the listener's transactions are savepoints inside this test's rolled-back transaction
    sessions = sessionmaker(bind=db.connection(), join_transaction_mode="create_savepoint")
    stop, applied = threading.Event(), threading.Event()
    listener = threading.Thread(
        target=run_location_listener,
        args=(settings, sessions, stop),
        kwargs={"applied": lambda _engineer_id: applied.set()},
    )
    listener.start()
    phone = MqttClient(
        url=mqtt_broker.url,
        username=engineer_username(engineer.id),
        password=secret,
        client_id=f"phone-{engineer.id}",
    )
    phone.connect()
    try:
        time.sleep(0.5)  # the listener's subscription is in place
        body = orjson.dumps({"lat": 48.4, "lon": 11.8})
        phone.publish(location_topic(engineer.id), body, qos=1)
        assert applied.wait(5)
    finally:
        phone.close()
        stop.set()
        listener.join(timeout=5)
    db.refresh(engineer)
    assert point_lat_lon(engineer.location) == pytest.approx((48.4, 11.8))
