"""Shared fixtures: the real test database, migrated once per run; one rolled-back
transaction per test (services flush; a commit at the edge only releases a savepoint)."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.broker import SERVICE_USER_PREFIX, mosquitto_hash, write_password_file
from core.config import get_settings
from core.db import make_engine
from fieldcrm.migrate import upgrade
from fieldcrm.services.base import service_user
from fieldcrm.services.mosquitto import paths, start_broker, stop_broker, write_config
from tests.brokers import LocalBroker


@pytest.fixture(scope="session")
def test_database_url() -> str:
    url = get_settings().resolved_test_database_url()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def db_engine(test_database_url: str) -> Iterator[Engine]:
    engine = make_engine(test_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(db_engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back when the test ends."""
    conn = db_engine.connect()
    outer = conn.begin()
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        conn.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def mqtt_broker(worker_id: str) -> Iterator[LocalBroker]:
    """A broker of our own per test worker, on a free port, stopped at the end."""
    settings = get_settings()
    user = service_user("mosquitto")
    broker_paths = paths(settings.var_dir / "test", user, name=f"mosquitto-{worker_id}")
    port = _free_port()
    write_config(broker_paths, port=port, user=user)
    passwords = {
        f"{SERVICE_USER_PREFIX}{name}": secrets.token_urlsafe(16)
        for name in ("ingest", "worker", "web")
    }
    write_password_file(
        broker_paths.passwd,
        {name: mosquitto_hash(pw) for name, pw in passwords.items()},
        owner=user,
    )
    start_broker(broker_paths, port=port)
    try:
        yield LocalBroker(f"mqtt://127.0.0.1:{port}", broker_paths, passwords)
    finally:
        stop_broker(broker_paths)


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """The xdist worker name ("master" without xdist), to keep per-worker resources apart."""
    return str(getattr(request.config, "workerinput", {}).get("workerid", "master"))
