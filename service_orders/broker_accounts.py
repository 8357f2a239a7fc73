"""Engineers' MQTT identities: secrets shown once, the broker's eng- accounts kept in step,
and the location reports their phones publish.

An engineer has a broker account only while their user is active and an engineer: a
deactivation (or a new role) in crm notifies `engineer_accounts` in its own transaction (a
mapper hook registered here, since crm cannot know service_orders), the worker's listener
then forgets the phone's secret and reloads the broker within a second; the 5-minute sync
job is the safety net, and the sync never writes an account of such a user anyway.
"""

from __future__ import annotations

import logging
import queue
import re
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson
from sqlalchemy import Connection, event, func, inspect, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapper, Session, sessionmaker

from core.auth.principal import SYSTEM, Principal
from core.auth.roles import Role
from core.broker import (
    ENGINEER_USER_PREFIX,
    local_broker_files,
    mosquitto_hash,
    password_file_owner,
    replace_managed_accounts,
)
from core.config import Settings
from core.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from core.jobs import libpq_conninfo
from core.mqtt import Message, MqttClient, MqttError, random_client_id, service_client
from crm.audit import UPDATE, record_change
from crm.models import User
from service_orders.engineers import get_engineer, update_location
from service_orders.listener import run_on_notify
from service_orders.models import Engineer

log = logging.getLogger(__name__)
LOCATION_TOPIC_FILTER = "engineers/+/location"
_LOCATION_TOPIC = re.compile(rf"^engineers/{ENGINEER_USER_PREFIX}(\d+)/location$")
ACCOUNTS_CHANNEL = "engineer_accounts"


def engineer_username(engineer_id: int) -> str:
    """The broker username of an engineer's phone."""
    return f"{ENGINEER_USER_PREFIX}{engineer_id}"


def dispatch_topic(engineer_id: int) -> str:
    """Where the worker publishes an engineer's offers (only that engineer may read it)."""
    return f"engineers/{engineer_username(engineer_id)}/dispatch"


def location_topic(engineer_id: int) -> str:
    """Where an engineer's phone reports its position (only that engineer may write it)."""
    return f"engineers/{engineer_username(engineer_id)}/location"


def broker_client(
    settings: Settings, *, purpose: str, account: Literal["worker", "web"] = "worker"
) -> MqttClient:
    """A (not yet connected) broker connection as the worker's (or the web's) account."""
    return service_client(
        settings, account, client_id=random_client_id(f"fieldcrm-{account}-{purpose}")
    )


def issue_mqtt_secret(session: Session, *, actor: Principal, engineer_id: int) -> str:
    """Give (or rotate) an engineer's phone secret; returned once, stored only hashed."""
    if not actor.is_staff:
        raise PermissionDenied("Only dispatchers and admins issue engineers' MQTT secrets.")
    engineer = get_engineer(session, engineer_id=engineer_id)
    secret = secrets.token_urlsafe(24)
    rotated = engineer.mqtt_secret_hash is not None
    engineer.mqtt_secret_hash = mosquitto_hash(secret)
    session.flush()
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=Engineer.__tablename__,
        entity_id=engineer.id,
        before={"mqtt_account": rotated},
        after={"mqtt_account": True, "username": engineer_username(engineer.id)},
    )
    return secret


def revoke_mqtt_secret(session: Session, *, actor: Principal, engineer_id: int) -> Engineer:
    """Take an engineer's phone off the broker: the secret is forgotten, the sync drops it."""
    if not actor.is_staff:
        raise PermissionDenied("Only dispatchers and admins revoke engineers' MQTT secrets.")
    engineer = get_engineer(session, engineer_id=engineer_id)
    if engineer.mqtt_secret_hash is None:
        raise IllegalTransition("This engineer has no MQTT secret.")
    _forget_secret(session, engineer, actor=actor, reason="revoked")
    return engineer


def forget_departed_engineers(session: Session) -> list[int]:
    """Forget the phone secrets of engineers whose user is deactivated or no engineer now.

    Reactivating the user does not bring the old secret back: the phone gets a new one.
    """
    departed = session.scalars(
        select(Engineer)
        .join(User, User.id == Engineer.user_id)
        .where(
            Engineer.mqtt_secret_hash.is_not(None),
            or_(User.is_active.is_(False), User.role != Role.ENGINEER.value),
        )
        .order_by(Engineer.id)
        .with_for_update(of=Engineer)
    ).all()
    for engineer in departed:
        _forget_secret(
            session, engineer, actor=SYSTEM, reason="user deactivated or not an engineer"
        )
    return [engineer.id for engineer in departed]


def _forget_secret(session: Session, engineer: Engineer, *, actor: Principal, reason: str) -> None:
    engineer.mqtt_secret_hash = None
    session.flush()
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=Engineer.__tablename__,
        entity_id=engineer.id,
        before={"mqtt_account": True},
        after={"mqtt_account": False, "reason": reason},
    )


def engineer_broker_accounts(session: Session) -> dict[str, str]:
    """Username -> password hash of every active engineer with an MQTT secret."""
    rows = session.execute(
        select(Engineer.id, Engineer.mqtt_secret_hash)
        .join(User, User.id == Engineer.user_id)
        .where(
            Engineer.mqtt_secret_hash.is_not(None),
            User.is_active,
            User.role == Role.ENGINEER.value,
        )
    )
    return {engineer_username(int(eid)): str(encoded) for eid, encoded in rows}


def is_engineer_username(user: str) -> bool:
    """Whether a broker username belongs to the engineers' class."""
    return user.startswith(ENGINEER_USER_PREFIX)


def sync_engineer_accounts(session: Session, *, passwd: Path, pid_file: Path | None) -> bool:
    """Rewrite the broker's eng- accounts from the database (devices kept) and reload."""
    return replace_managed_accounts(
        passwd,
        engineer_broker_accounts(session),
        owner=password_file_owner(),
        pid_file=pid_file,
        manages=is_engineer_username,
    )


def sync_local_broker_engineers(session: Session, settings: Settings) -> bool:
    """Sync the project's own broker; an external broker manages its accounts itself."""
    if not settings.uses_local_broker:
        return False
    passwd, pid_file = local_broker_files(settings.var_dir)
    return sync_engineer_accounts(session, passwd=passwd, pid_file=pid_file)


def refresh_engineer_accounts(session: Session, settings: Settings) -> bool:
    """Forget departed engineers' secrets, then sync the project's own broker."""
    forget_departed_engineers(session)
    return sync_local_broker_engineers(session, settings)


@event.listens_for(User, "after_update")
def _wake_account_sync(mapper: Mapper[User], connection: Connection, user: User) -> None:
    # in the user's own transaction: the listener hears it only once the change is committed
    attrs = inspect(user).attrs
    if attrs.is_active.history.has_changes() or attrs.role.history.has_changes():
        connection.execute(select(func.pg_notify(ACCOUNTS_CHANNEL, str(user.id))))


def run_engineer_account_sync(
    settings: Settings,
    sessions: sessionmaker[Session],
    stop: threading.Event,
    *,
    sync: Callable[[Session], object] | None = None,
) -> None:
    """Whenever a user's activity or role changes, refresh the engineers' broker accounts."""

    def refresh() -> None:
        with sessions.begin() as session:
            if sync is None:
                refresh_engineer_accounts(session, settings)
            else:
                forget_departed_engineers(session)
                sync(session)

    run_on_notify(
        libpq_conninfo(settings.resolved_database_url()),
        ACCOUNTS_CHANNEL,
        refresh,
        stop,
        debounce_seconds=0.2,
        name="engineer accounts",
    )


def start_engineer_account_sync(
    settings: Settings, sessions: sessionmaker[Session], stop: threading.Event
) -> threading.Thread:
    """Run the account sync listener in a daemon thread until `stop` is set."""
    return _start_daemon(run_engineer_account_sync, settings, sessions, stop, "engineer-accounts")


def handle_location_message(
    session: Session, *, topic: str, payload: bytes, received_at: datetime | None = None
) -> Engineer:
    """Apply `{"lat":..,"lon":..,"at"?: iso}` published on engineers/eng-<id>/location."""
    match = _LOCATION_TOPIC.match(topic)
    if match is None:
        raise InvalidInput(f"Not an engineer location topic: {topic}.", code="bad_topic")
    try:
        body = orjson.loads(payload)
        lat, lon = float(body["lat"]), float(body["lon"])
        at = datetime.fromisoformat(body["at"]) if body.get("at") else None
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"Bad location payload: {exc}.", code="bad_payload") from exc
    now = received_at or datetime.now(UTC)
    if at is None or at.tzinfo is None or at > now:
        at = now  # a phone's clock is not trusted into the future
    return update_location(session, engineer_id=int(match.group(1)), lat=lat, lon=lon, at=at)


def run_location_listener(
    settings: Settings,
    sessions: sessionmaker[Session],
    stop: threading.Event,
    *,
    applied: Callable[[int], None] | None = None,
) -> None:
    """Apply the phones' location reports (as the worker account) until `stop`."""
    inbox: queue.Queue[Message] = queue.Queue()
    client = broker_client(settings, purpose="locations")
    client.on_message = inbox.put
    client.subscribe(LOCATION_TOPIC_FILTER, qos=0)  # the next report supersedes a lost one
    delay = 1.0
    while not stop.is_set():  # the broker may come up after the worker
        try:
            client.connect()
            break
        except MqttError as exc:
            log.warning("location listener: broker unavailable (%s); retrying", exc)
            stop.wait(delay)
            delay = min(delay * 2, 30.0)
    try:
        while not stop.is_set():
            try:
                message = inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                with sessions.begin() as session:
                    engineer_id = handle_location_message(
                        session, topic=message.topic, payload=message.payload
                    ).id
            except (InvalidInput, NotFound) as exc:
                log.warning("location report on %s dropped: %s", message.topic, exc)
                continue
            except SQLAlchemyError:
                # a database outage must not end the listener; the next report comes soon
                log.exception("location report on %s not stored", message.topic)
                continue
            if applied is not None:
                applied(engineer_id)
    finally:
        client.close()


def start_location_listener(
    settings: Settings, sessions: sessionmaker[Session], stop: threading.Event
) -> threading.Thread:
    """Run the location listener in a daemon thread until `stop` is set."""
    return _start_daemon(run_location_listener, settings, sessions, stop, "engineer-locations")


def _start_daemon(
    target: Callable[[Settings, sessionmaker[Session], threading.Event], None],
    settings: Settings,
    sessions: sessionmaker[Session],
    stop: threading.Event,
    name: str,
) -> threading.Thread:
    thread = threading.Thread(
        target=target, args=(settings, sessions, stop), name=name, daemon=True
    )
    thread.start()
    return thread
