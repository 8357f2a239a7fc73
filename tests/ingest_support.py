"""Fleets of real devices for ingest tests: committed rows, broker accounts, publishers."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from core.auth.principal import SYSTEM
from core.config import PROJECT_ROOT, Settings
from core.mqtt import MqttError
from crm.models import OrgKind
from crm.schemas import (
    AssetCreate,
    MetricDefinitionCreate,
    OrganizationCreate,
    ProductModelCreate,
    SiteCreate,
)
from crm.service import create_asset, create_organization, create_product_model, create_site
from telemetry.devices import provision_device
from telemetry.ingest.pipeline import Ingest, IngestOptions
from telemetry.models import DeadLetter, Reading
from tests.brokers import LocalBroker

if TYPE_CHECKING:
    from tests.conftest import IngestWorld

METRICS = ("pressure", "oil_temp", "rpm", "vibration", "fuel", "hours")
_counter = itertools.count(1)


@dataclass(frozen=True)
class FleetDevice:
    device_id: int
    asset_id: int
    key: str
    secret: str


def make_fleet(
    sessions: sessionmaker[Session], broker: LocalBroker, size: int
) -> list[FleetDevice]:
    """Commit `size` assets with devices (one product model, six metrics); add broker accounts."""
    n = next(_counter)
    with sessions() as session:
        maker = create_organization(
            session,
            actor=SYSTEM,
            data=OrganizationCreate(kind=OrgKind.MANUFACTURER, name=f"Maker {n}-{os.getpid()}"),
        )
        owner = create_organization(
            session,
            actor=SYSTEM,
            data=OrganizationCreate(kind=OrgKind.CUSTOMER, name=f"Owner {n}-{os.getpid()}"),
        )
        site = create_site(
            session,
            actor=SYSTEM,
            data=SiteCreate(
                org_id=owner.id, name="Yard", address="1 Test Road", lat=48.1, lon=11.5
            ),
        )
        model = create_product_model(
            session,
            actor=SYSTEM,
            data=ProductModelCreate(
                manufacturer_org_id=maker.id,
                code=f"TM-{n}-{os.getpid()}",
                name="Test machine",
                family="compressor",
            ),
            metrics=[
                MetricDefinitionCreate(
                    key=key, label=key, unit="u", min_value=-1000, max_value=100000
                )
                for key in METRICS
            ],
        )
        fleet = []
        for index in range(size):
            asset = create_asset(
                session,
                actor=SYSTEM,
                data=AssetCreate(
                    serial=f"SN-{n}-{index}",
                    product_model_id=model.id,
                    site_id=site.id,
                    owner_org_id=owner.id,
                    install_date=date(2025, 1, 1),
                ),
            )
            provisioned = provision_device(
                session, actor=SYSTEM, asset_id=asset.id, key=f"dev-{n}-{index}-{os.getpid()}"
            )
            fleet.append(
                FleetDevice(
                    provisioned.device.id, asset.id, provisioned.device.key, provisioned.secret
                )
            )
        session.commit()
    for device in fleet:
        broker.passwords[device.key] = device.secret
    broker.add_accounts({d.key: d.secret for d in fleet})
    return fleet


def reading(seq: int, *, ts_ms: int | None = None, **metrics: float) -> dict[str, object]:
    values = metrics or {key: float(seq % 97 + i) for i, key in enumerate(METRICS)}
    return {"ts": ts_ms if ts_ms is not None else int(time.time() * 1000), "seq": seq, "m": values}


class Publisher:
    """One device's connection; publishes QoS 1 and, like a real device, retries until acked."""

    def __init__(self, broker: LocalBroker, device: FleetDevice) -> None:
        self.device = device
        self.client = broker.client(device.key)
        self.client.connect()

    def send(self, payload: object, *, patience: float = 30) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        deadline = time.monotonic() + patience
        while True:
            try:
                self.client.publish(f"fleet/{self.device.key}/telemetry", body, timeout=2)
                return
            except (MqttError, ValueError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        self.client.close()


def stored_count(sessions: sessionmaker[Session], device_ids: list[int]) -> int:
    with sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Reading).where(Reading.device_id.in_(device_ids))
            )
            or 0
        )


def dead_letter_reasons(sessions: sessionmaker[Session], key: str) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(
                select(DeadLetter.reason)
                .where(DeadLetter.device_key == key)
                .order_by(DeadLetter.id)
            )
        )


def wait_until(predicate: object, *, timeout: float = 20, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]  # a callable
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def duplicates(sessions: sessionmaker[Session], device_ids: list[int]) -> int:
    """Rows beyond one per (device, seq): the reading identity must never repeat."""
    with sessions() as session:
        return int(
            session.execute(
                text(
                    "SELECT count(*) - count(DISTINCT (device_id, seq)) FROM readings "
                    "WHERE device_id = ANY(:ids)"
                ),
                {"ids": device_ids},
            ).scalar()
            or 0
        )


def ingest_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "FIELDCRM_DATABASE_URL": settings.resolved_database_url(),
        "FIELDCRM_MQTT_URL": settings.resolved_mqtt_url(),
        "FIELDCRM_MQTT_INGEST_PASSWORD": settings.mqtt_password("ingest"),
    }


@contextmanager
def ingest_process(
    settings: Settings, log: Path, *, instance: str = "t1"
) -> Iterator[subprocess.Popen[bytes]]:
    """`fieldcrm ingest` as a real process (so tests can kill -9 it)."""
    start = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fieldcrm.cli", "ingest", "--instance", instance],
            env=ingest_env(settings),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    try:
        marker = f"ingest {instance} subscribed"
        wait_until(
            lambda: marker in log.read_text()[start:] or proc.poll() is not None,
            timeout=30,
            what="the ingest to subscribe",
        )
        assert proc.poll() is None, log.read_text()[-2000:]
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


@contextmanager
def ingest_thread(world: IngestWorld, *, instance: str) -> Iterator[Ingest]:
    """The product's ingest in a thread under a stable instance name, as in production."""
    running = Ingest(
        world.settings,
        world.sessions,
        options=IngestOptions(instance=instance, batch_wait=0.02, profile_ttl=0.5),
    )
    stop = threading.Event()
    thread = threading.Thread(target=running.run, args=(stop,), daemon=True)
    thread.start()
    wait_until(lambda: running.client.connected, what="ingest to connect")
    yield running
    stop.set()
    thread.join(timeout=20)
    assert not thread.is_alive()
    # leave the shared subscription: a member gone for good keeps getting its share queued,
    # which later tests on the same broker would miss (`fieldcrm ingest --leave`)
    leaving = Ingest(world.settings, world.sessions, options=running.options)
    done = threading.Event()
    done.set()
    leaving.run(done, leave=True)
