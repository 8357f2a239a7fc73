"""Shared fixtures: the real test database, migrated once per run; one rolled-back
transaction per test (services flush; a commit at the edge only releases a savepoint)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.broker import SERVICE_USER_PREFIX, mosquitto_hash, write_password_file
from core.config import Settings, get_settings, secrets_file
from core.db import make_engine
from fieldcrm.migrate import upgrade
from fieldcrm.services import postgres
from fieldcrm.services.base import free_port, service_user
from fieldcrm.services.mosquitto import paths, start_broker, stop_broker, write_config
from fieldcrm.services.secrets import ensure_secrets
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


@pytest.fixture(scope="session")
def mqtt_broker(worker_id: str) -> Iterator[LocalBroker]:
    """A broker of our own per test worker, on a free port, stopped at the end."""
    settings = get_settings()
    user = service_user("mosquitto")
    # per process: two test runs at once (two developers' terminals) must not share a broker
    broker_paths = paths(settings.var_dir / "test", user, name=f"mosquitto-{os.getpid()}")
    port = free_port()
    # a fresh store: sessions of earlier runs would join $share groups as offline members
    shutil.rmtree(broker_paths.root / "data", ignore_errors=True)
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
        _remove_state(settings.var_dir / "test" / f"mosquitto-{os.getpid()}")


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """The xdist worker name ("master" without xdist), to keep per-worker resources apart."""
    return str(getattr(request.config, "workerinput", {}).get("workerid", "master"))


@dataclass(frozen=True)
class IngestWorld:
    """A real PostgreSQL cluster of its own (restartable) and the test broker, wired up."""

    settings: Settings
    sessions: sessionmaker[Session]


@pytest.fixture(scope="session")
def ingest_world(mqtt_broker: LocalBroker, worker_id: str) -> Iterator[IngestWorld]:
    """Its own cluster, so fault tests may restart the database without disturbing others."""
    var_dir = get_settings().var_dir / "test" / f"ingest-{os.getpid()}"
    ensure_secrets(var_dir)
    base = Settings(_env_file=secrets_file(var_dir), var_dir=var_dir, pg_port=free_port())  # type: ignore[call-arg]  # pydantic-settings init kwarg
    postgres.start(base)
    upgrade(base.resolved_database_url())
    settings = base.model_copy(
        update={
            "mqtt_url": mqtt_broker.url,
            "mqtt_ingest_password": SecretStr(mqtt_broker.passwords["fieldcrm-ingest"]),
            "telemetry_max_payload_bytes": 16 * 1024,
        }
    )
    engine = make_engine(settings.resolved_database_url())
    try:
        yield IngestWorld(settings, sessionmaker(bind=engine, expire_on_commit=False))
    finally:
        engine.dispose()
        postgres.stop(base)
        _remove_state(var_dir / "pg")
        shutil.rmtree(var_dir, ignore_errors=True)


def _remove_state(link: Path) -> None:
    """Remove a service's state dir, which may sit behind a symlink (see services.base)."""
    if link.is_symlink():
        shutil.rmtree(link.resolve(), ignore_errors=True)
        link.unlink()
    else:
        shutil.rmtree(link, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_public_limits() -> None:
    """Each test starts with no public-page counts and no cached verdicts (all tests call
    from the same client address, and one test's verdict must not answer another's)."""
    from core.web.throttle import reset_limits
    from ledger.views import forget_verdicts

    reset_limits()
    forget_verdicts()
