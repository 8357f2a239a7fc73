"""Broker accounts: each service may do what its process does and nothing more, an engineer
loses the broker with their user, and nobody can guess a service's client id."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.broker import read_password_file, write_password_file
from core.config import Settings, get_settings
from core.errors import IllegalTransition, PermissionDenied
from core.mqtt import Message, MqttClient, MqttError
from crm.models import AuditLog, OrgKind, User
from crm.schemas import UserUpdate
from crm.service import update_user
from service_orders.broker_accounts import (
    broker_client,
    dispatch_topic,
    engineer_broker_accounts,
    engineer_username,
    issue_mqtt_secret,
    revoke_mqtt_secret,
    run_engineer_account_sync,
    sync_engineer_accounts,
)
from service_orders.models import Engineer
from telemetry.ingest.pipeline import ingest_client_id
from tests.brokers import LocalBroker
from tests.crm.factories import make_org, principal_of
from tests.service_orders.dispatch_factories import make_engineer

DEVICE = "dev-least-privilege"


@pytest.fixture
def device(mqtt_broker: LocalBroker) -> str:
    mqtt_broker.passwords[DEVICE] = "least-privilege-password"
    mqtt_broker.add_account(DEVICE, "least-privilege-password")
    return DEVICE


def _listening(
    broker: LocalBroker, username: str, topic: str
) -> tuple[MqttClient, queue.Queue[Message]]:
    inbox: queue.Queue[Message] = queue.Queue()
    client = broker.client(username, on_message=inbox.put)
    client.subscribe(topic)
    client.connect()
    assert client.wait_subscribed()
    return client, inbox


def _topics(inbox: queue.Queue[Message], *, wait_for: str) -> list[str]:
    """Every topic received up to and including the first message on `wait_for`."""
    topics: list[str] = []
    while wait_for not in topics:
        topics.append(inbox.get(timeout=5).topic)
    return topics


@pytest.mark.parametrize("service", ["fieldcrm-worker", "fieldcrm-web", "fieldcrm-ingest"])
def test_no_service_account_may_send_a_device_command(
    mqtt_broker: LocalBroker, device: str, service: str
) -> None:
    own_commands = f"fleet/{device}/cmd/reboot"
    phone, inbox = _listening(mqtt_broker, device, f"fleet/{device}/cmd/#")
    sender = mqtt_broker.client(service)
    sender.connect()
    try:
        sender.publish(own_commands, b"forged")
        phone.publish(own_commands, b"control")  # a device may write under its own topics
        received = []
        while not received or received[-1].payload != b"control":
            received.append(inbox.get(timeout=5))
        assert [m.payload for m in received] == [b"control"]
    finally:
        sender.close()
        phone.close()


@pytest.mark.parametrize("service", ["fieldcrm-worker", "fieldcrm-web"])
def test_only_the_ingest_reads_telemetry(
    mqtt_broker: LocalBroker, device: str, service: str
) -> None:
    topic = f"fleet/{device}/telemetry"
    ingest, stored = _listening(mqtt_broker, "fieldcrm-ingest", "fleet/+/telemetry")
    snoop, seen = _listening(mqtt_broker, service, "fleet/+/telemetry")
    sender = mqtt_broker.client(device)
    sender.connect()
    try:
        sender.publish(topic, b'{"seq": 1}')
        assert _topics(stored, wait_for=topic) == [topic]
        with pytest.raises(queue.Empty):
            seen.get(timeout=1)
    finally:
        sender.close()
        snoop.close()
        ingest.close()


@pytest.mark.parametrize("account", ["worker", "web"])
def test_worker_and_web_send_offers_with_their_own_accounts(
    db: Session, mqtt_broker: LocalBroker, account: str
) -> None:
    engineer = make_engineer(db, org=make_org(db, kind=OrgKind.MANUFACTURER))
    secret = issue_mqtt_secret(db, actor=SYSTEM, engineer_id=engineer.id)
    mqtt_broker.passwords[engineer_username(engineer.id)] = secret
    mqtt_broker.add_account(engineer_username(engineer.id), secret)
    phone, inbox = _listening(
        mqtt_broker, engineer_username(engineer.id), dispatch_topic(engineer.id)
    )
    settings = get_settings().model_copy(
        update={
            "mqtt_url": mqtt_broker.url,
            f"mqtt_{account}_password": SecretStr(mqtt_broker.passwords[f"fieldcrm-{account}"]),
        }
    )
    sender = broker_client(settings, purpose="offers", account=account)  # type: ignore[arg-type]
    sender.connect()
    try:
        assert sender.username == f"fieldcrm-{account}"
        sender.publish(dispatch_topic(engineer.id), b'{"type": "offer"}')
        assert inbox.get(timeout=5).topic == dispatch_topic(engineer.id)
    finally:
        sender.close()
        phone.close()


# --- engineers' accounts follow their user ---


def test_a_deactivated_or_reassigned_engineer_has_no_broker_account(db: Session) -> None:
    org = make_org(db, kind=OrgKind.MANUFACTURER)
    leaving, moving, staying = (make_engineer(db, org=org) for _ in range(3))
    for engineer in (leaving, moving, staying):
        issue_mqtt_secret(db, actor=SYSTEM, engineer_id=engineer.id)
    update_user(db, actor=SYSTEM, user_id=leaving.user_id, data=UserUpdate(is_active=False))
    update_user(db, actor=SYSTEM, user_id=moving.user_id, data=UserUpdate(role=Role.DISPATCHER))

    accounts = engineer_broker_accounts(db)

    assert engineer_username(staying.id) in accounts
    assert engineer_username(leaving.id) not in accounts
    assert engineer_username(moving.id) not in accounts


def test_staff_revoke_an_engineers_broker_secret(db: Session, tmp_path: Path) -> None:
    org = make_org(db, kind=OrgKind.MANUFACTURER)
    engineer = make_engineer(db, org=org)
    issue_mqtt_secret(db, actor=SYSTEM, engineer_id=engineer.id)
    themselves = principal_of(db.get_one(User, engineer.user_id))
    with pytest.raises(PermissionDenied):
        revoke_mqtt_secret(db, actor=themselves, engineer_id=engineer.id)

    revoke_mqtt_secret(db, actor=SYSTEM, engineer_id=engineer.id)
    passwd = tmp_path / "passwd"
    write_password_file(passwd, {engineer_username(engineer.id): "stale"})
    sync_engineer_accounts(db, passwd=passwd, pid_file=None)

    assert engineer.mqtt_secret_hash is None
    assert engineer_username(engineer.id) not in read_password_file(passwd)
    with pytest.raises(IllegalTransition):
        revoke_mqtt_secret(db, actor=SYSTEM, engineer_id=engineer.id)


@dataclass
class CommittedEngineer:
    engineer_id: int
    user_id: int
    secret: str


@pytest.fixture
def committed_engineer(db_engine: Engine) -> Iterator[CommittedEngineer]:
    """An engineer with a broker secret, committed (the listener hears only commits)."""
    with Session(db_engine) as session:
        org = make_org(session, kind=OrgKind.MANUFACTURER)
        engineer = make_engineer(session, org=org)
        secret = issue_mqtt_secret(session, actor=SYSTEM, engineer_id=engineer.id)
        session.commit()
        made = CommittedEngineer(engineer.id, engineer.user_id, secret)
        org_id = org.id
    try:
        yield made
    finally:
        with db_engine.begin() as conn:
            ids = {"eng": made.engineer_id, "user": made.user_id, "org": org_id}
            conn.execute(
                text("DELETE FROM audit_log WHERE entity = 'engineers' AND entity_id = :eng"),
                {"eng": str(made.engineer_id)},
            )
            conn.execute(text("DELETE FROM engineers WHERE id = :eng"), ids)
            conn.execute(text("DELETE FROM users WHERE id = :user"), ids)
            conn.execute(text("DELETE FROM organizations WHERE id = :org"), ids)


def test_deactivating_an_engineer_takes_their_phone_off_the_broker_at_once(
    db_engine: Engine,
    mqtt_broker: LocalBroker,
    test_database_url: str,
    committed_engineer: CommittedEngineer,
) -> None:
    username = engineer_username(committed_engineer.engineer_id)
    mqtt_broker.passwords[username] = committed_engineer.secret
    broker = mqtt_broker.paths

    def sync(session: Session) -> bool:
        return sync_engineer_accounts(session, passwd=broker.passwd, pid_file=broker.pid_file)

    settings = get_settings().model_copy(update={"database_url": test_database_url})
    stop = threading.Event()
    listener = threading.Thread(
        target=run_engineer_account_sync,
        args=(settings, sessionmaker(bind=db_engine), stop),
        kwargs={"sync": sync},
    )
    listener.start()
    try:
        _wait_for(lambda: _connects(mqtt_broker, username), what="the phone to be let in")
        with Session(db_engine) as session:
            update_user(
                session,
                actor=SYSTEM,
                user_id=committed_engineer.user_id,
                data=UserUpdate(is_active=False),
            )
            session.commit()
        _wait_for(lambda: not _connects(mqtt_broker, username), what="the phone to be refused")
    finally:
        stop.set()
        listener.join(timeout=5)
    with Session(db_engine) as session:
        engineer = session.get_one(Engineer, committed_engineer.engineer_id)
        reasons = session.scalars(
            select(AuditLog.after).where(
                AuditLog.entity == "engineers", AuditLog.entity_id == str(engineer.id)
            )
        ).all()
    assert engineer.mqtt_secret_hash is None  # reactivation needs a new secret
    assert any(after and after.get("mqtt_account") is False for after in reasons)


def _connects(broker: LocalBroker, username: str) -> bool:
    client = broker.client(username)
    try:
        client.connect(timeout=2)
    except MqttError:
        return False
    client.close()
    return True


def _wait_for(predicate: object, *, what: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]  # a callable
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# --- client ids ---


def _ingest_settings(broker: LocalBroker, password: str | None = None) -> Settings:
    return get_settings().model_copy(
        update={
            "mqtt_url": broker.url,
            "mqtt_ingest_password": SecretStr(password or broker.passwords["fieldcrm-ingest"]),
        }
    )


def test_the_ingest_client_id_is_stable_and_unguessable(mqtt_broker: LocalBroker) -> None:
    settings = _ingest_settings(mqtt_broker)
    client_id = ingest_client_id(settings, "1")

    assert client_id == ingest_client_id(settings, "1")  # the session survives restarts
    assert client_id != ingest_client_id(settings, "2")
    assert client_id != ingest_client_id(_ingest_settings(mqtt_broker, "another-password"), "1")
    assert client_id.startswith("fieldcrm-ingest-1-")
    assert len(client_id) >= 38
    other = broker_client(settings, purpose="offers").client_id
    assert other != broker_client(settings, purpose="offers").client_id
    assert len(other) >= len("fieldcrm-worker-offers-") + 24


def test_a_device_cannot_take_the_ingest_session_over(
    mqtt_broker: LocalBroker, device: str
) -> None:
    settings = _ingest_settings(mqtt_broker)
    guessable = mqtt_broker.client("fieldcrm-ingest", client_id="fieldcrm-ingest-1")
    ingest = mqtt_broker.client("fieldcrm-ingest", client_id=ingest_client_id(settings, "1"))
    for client in (guessable, ingest):
        client.connect()
    # the device knows the old id scheme; Mosquitto hands an id to whoever connects last
    intruder = mqtt_broker.client(device, client_id="fieldcrm-ingest-1")
    intruder.connect()
    try:
        _wait_for(lambda: not guessable.connected, what="the guessable id to be taken over")
        time.sleep(0.3)
        assert ingest.connected
    finally:
        for client in (intruder, guessable, ingest):
            client.close(end_session=True)
