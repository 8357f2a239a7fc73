"""Alert to dispatch over MQTT, end to end, while the ingest benchmark's load runs.

Everything is real and of its own: a scratch database, a private Mosquitto on a free port,
`fieldcrm ingest` and `fieldcrm worker` as processes, a background fleet publishing through
simulators.loadgen, and engineers' phones as MQTT clients subscribed to their dispatch topics.

Per sample, a fresh device (its own asset, so every reading opens a new alert) publishes one
reading over the critical pressure limit: t0 is taken just before that publish, t1 when an
engineer's client receives the offer for that asset. The path in between is the product's:
ingest stores the reading and the rules open a critical alert (NOTIFY alerts) -> the worker's
intake makes a work order (NOTIFY work_orders) -> the dispatch wake-up offers it and publishes.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from bench.fixtures import BenchBroker, bench_broker, create_fleet, libpq, migrated
from bench.fixtures import scratch_database as make_scratch_database
from bench.loadrun import LoadRun, run_loadgen
from bench.product import ingest_process, warm_up
from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.broker import SERVICE_USER_PREFIX, mosquitto_hash
from core.config import get_settings
from core.db import make_engine, utcnow
from core.mqtt import Message, MqttClient, MqttError
from crm import service
from crm.models import OrgKind
from crm.schemas import (
    AssetCreate,
    MetricDefinitionCreate,
    OrganizationCreate,
    ProductModelCreate,
    SiteCreate,
    UserCreate,
)
from service_orders.broker_accounts import dispatch_topic, engineer_username, issue_mqtt_secret
from service_orders.engineers import SkillIn, add_shift, create_engineer
from telemetry.devices import provision_device
from telemetry.rules.schemas import RuleCreate
from telemetry.rules.service import create_rule

_CLI = [sys.executable, "-m", "fieldcrm.cli"]
P99_GOAL_MS = 500.0
FAMILY = "compressor"
SITE_LAT, SITE_LON = 48.137, 11.575
ANOMALY = 190.0  # over crit_high 160, inside the metric's valid range 0..200
PRESSURE = MetricDefinitionCreate(
    key="pressure",
    label="Hydraulic pressure",
    unit="bar",
    min_value=0,
    max_value=200,
    warn_low=20,
    warn_high=120,
    crit_low=10,
    crit_high=160,
)

_STAGES_SQL = """
SELECT w.asset_id, w.created_at, o.published_at
FROM work_orders w JOIN dispatch_offers o ON o.work_order_id = w.id
WHERE w.asset_id = ANY(%s)
ORDER BY o.id
"""


@dataclass(frozen=True)
class Options:
    samples: int = 80
    interval_s: float = 0.75
    load_rate: float = 3000.0
    load_devices: int = 500
    engineers: int = 8
    capacity: int = 50
    wait_s: float = 20.0  # the longest a sample may take before it counts as not received


@dataclass(frozen=True)
class SampleDevice:
    asset_id: int
    key: str
    secret: str


@dataclass
class World:
    devices: list[SampleDevice]
    engineers: dict[int, str]  # engineer id -> MQTT secret
    hashes: dict[str, str]  # broker accounts to add: sample devices, engineers, the worker
    worker_password: str


@dataclass
class Inbox:
    """First offer received per asset, timed on arrival (paho's network thread)."""

    received: dict[int, float] = field(default_factory=dict)
    messages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_message(self, message: Message) -> None:
        now = time.perf_counter()
        try:
            asset_id = int(json.loads(message.payload)["asset"]["id"])
        except (ValueError, KeyError, TypeError):
            return
        with self.lock:
            self.messages += 1
            self.received.setdefault(asset_id, now)


def build_world(url: str, options: Options) -> World:
    """Sample assets (one device each) with a critical threshold rule, engineers nearby."""
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            maker = service.create_organization(
                session,
                actor=SYSTEM,
                data=OrganizationCreate(kind=OrgKind.MANUFACTURER, name="A2D Maker"),
            )
            customer = service.create_organization(
                session, actor=SYSTEM, data=OrganizationCreate(kind=OrgKind.CUSTOMER, name="A2D")
            )
            model = service.create_product_model(
                session,
                actor=SYSTEM,
                data=ProductModelCreate(
                    manufacturer_org_id=maker.id, code="A2D-1", name="Compressor", family=FAMILY
                ),
                metrics=[PRESSURE],
            )
            create_rule(
                session,
                actor=SYSTEM,
                data=RuleCreate(
                    product_model_id=model.id,
                    metric_key="pressure",
                    kind="threshold",
                    name="pressure over its critical limit",
                    severity="critical",
                    params={},
                ),
            )
            site = service.create_site(
                session,
                actor=SYSTEM,
                data=SiteCreate(
                    org_id=customer.id,
                    name="Plant",
                    address="1 A2D Road",
                    lat=SITE_LAT,
                    lon=SITE_LON,
                ),
            )
            devices, hashes = [], {}
            for index in range(options.samples):
                asset = service.create_asset(
                    session,
                    actor=SYSTEM,
                    data=AssetCreate(
                        serial=f"A2D-{index:04d}",
                        product_model_id=model.id,
                        site_id=site.id,
                        owner_org_id=customer.id,
                        install_date=datetime(2025, 1, 1, tzinfo=UTC).date(),
                    ),
                )
                made = provision_device(
                    session, actor=SYSTEM, asset_id=asset.id, key=f"a2d-{index:04d}"
                )
                devices.append(SampleDevice(asset.id, made.device.key, made.secret))
                hashes[made.device.key] = made.device.secret_hash
            engineers = {}
            now = utcnow()
            for index in range(options.engineers):
                user = service.create_user(
                    session,
                    actor=SYSTEM,
                    data=UserCreate(
                        org_id=maker.id,
                        email=f"a2d-eng{index}@bench.test",
                        full_name=f"Engineer {index}",
                        role=Role.ENGINEER,
                        password=secrets.token_urlsafe(16),
                    ),
                )
                engineer = create_engineer(
                    session,
                    actor=SYSTEM,
                    user_id=user.id,
                    home_lat=SITE_LAT + (index + 1) / 111.2,
                    home_lon=SITE_LON,
                    skills=[SkillIn(family=FAMILY, level=3, certified_until=None)],
                    max_concurrent_jobs=options.capacity,
                )
                add_shift(
                    session,
                    actor=SYSTEM,
                    engineer_id=engineer.id,
                    starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(hours=7),
                )
                secret = issue_mqtt_secret(session, actor=SYSTEM, engineer_id=engineer.id)
                engineers[engineer.id] = secret
                hashes[engineer_username(engineer.id)] = str(engineer.mqtt_secret_hash)
    finally:
        engine.dispose()
    worker_password = secrets.token_urlsafe(18)
    hashes[f"{SERVICE_USER_PREFIX}worker"] = mosquitto_hash(worker_password)
    return World(devices, engineers, hashes, worker_password)


@contextmanager
def worker_process(url: str, broker: BenchBroker, password: str, log: Path) -> Iterator[None]:
    """`fieldcrm worker` against the bench database and broker, stopped on the way out."""
    env = {
        **os.environ,
        "FIELDCRM_DATABASE_URL": url,
        "FIELDCRM_MQTT_URL": broker.url,
        "FIELDCRM_MQTT_INGEST_PASSWORD": broker.ingest_password,
        "FIELDCRM_MQTT_WORKER_PASSWORD": password,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen([*_CLI, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Starting worker" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start; see {log}")
            time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _client(broker: BenchBroker, username: str, password: str) -> MqttClient:
    return MqttClient(
        url=broker.url,
        username=username,
        password=password,
        client_id=f"{username}-a2d-{secrets.token_hex(3)}",
    )


@contextmanager
def connected(clients: list[MqttClient]) -> Iterator[list[MqttClient]]:
    try:
        for client in clients:
            client.connect()
        yield clients
    finally:
        for client in clients:
            client.close()


def _publish(client: MqttClient, key: str) -> None:
    body = json.dumps({"ts": int(time.time() * 1000), "seq": 1, "m": {"pressure": ANOMALY}})
    deadline = time.monotonic() + 10
    while True:  # like a device: retry until the broker acknowledged it
        try:
            client.publish(f"fleet/{key}/telemetry", body, timeout=5)
            return
        except (MqttError, ValueError, RuntimeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stored_since(url: str, first_seq: int) -> int:
    """Background readings stored by now (did the ingest keep up with the load?)."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM readings WHERE seq >= %s", (first_seq,))
        found = row.fetchone()
    return int(found[0]) if found else 0


def _pct(values: list[float], pct: int) -> float | None:
    if len(values) < 2:
        return round(values[0], 1) if values else None
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 1)


def _stages(url: str, t0_wall: dict[int, float], t1_wall: dict[int, float]) -> dict[str, Any]:
    """Where the time went, from the rows' own timestamps (first offer per asset)."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        rows = conn.execute(_STAGES_SQL, (list(t0_wall),)).fetchall()
    first: dict[int, tuple[datetime, datetime | None]] = {}
    for asset_id, created_at, published_at in rows:
        first.setdefault(int(asset_id), (created_at, published_at))
    to_order, to_published, to_phone = [], [], []
    for asset_id, (created_at, published_at) in first.items():
        to_order.append((created_at.timestamp() - t0_wall[asset_id]) * 1000)
        if published_at is not None:
            to_published.append((published_at.timestamp() - created_at.timestamp()) * 1000)
            if asset_id in t1_wall:
                to_phone.append((t1_wall[asset_id] - published_at.timestamp()) * 1000)
    return {
        "stage_publish_to_work_order_p50_ms": _pct(to_order, 50),
        "stage_publish_to_work_order_p99_ms": _pct(to_order, 99),
        "stage_work_order_to_offer_published_p50_ms": _pct(to_published, 50),
        "stage_work_order_to_offer_published_p99_ms": _pct(to_published, 99),
        "stage_offer_published_to_phone_p50_ms": _pct(to_phone, 50),
    }


def _send_samples(
    broker: BenchBroker, world: World, options: Options, inbox: Inbox
) -> tuple[dict[int, float], dict[int, float], dict[int, float]]:
    """Publish one anomaly per sample device, spaced out; wait for their offers."""
    publishers = [_client(broker, d.key, d.secret) for d in world.devices]
    t0: dict[int, float] = {}
    t0_wall: dict[int, float] = {}
    with connected(publishers):
        next_at = time.perf_counter()
        for device, client in zip(world.devices, publishers, strict=True):
            time.sleep(max(0.0, next_at - time.perf_counter()))
            t0_wall[device.asset_id] = time.time()
            t0[device.asset_id] = time.perf_counter()
            _publish(client, device.key)
            next_at += options.interval_s
        deadline = time.monotonic() + options.wait_s
        while time.monotonic() < deadline:
            with inbox.lock:
                if all(asset in inbox.received for asset in t0):
                    break
            time.sleep(0.1)
    with inbox.lock:
        t1 = dict(inbox.received)
    offset = time.time() - time.perf_counter()
    t1_wall = {asset: at + offset for asset, at in t1.items()}
    return t0, t0_wall, t1_wall


def measure(options: Options, *, database: str = "fieldcrm_bench_a2d") -> dict[str, Any]:
    """The whole end-to-end run; returns the figures for the JSON line."""
    log_dir = get_settings().var_dir / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="fieldcrm-a2d-") as tmp,
        make_scratch_database(database) as url,
    ):
        migrated(url)
        fleet, fleet_hashes = create_fleet(url, devices=options.load_devices, work_dir=Path(tmp))
        world = build_world(url, options)
        inbox = Inbox()
        with (
            bench_broker({**fleet_hashes, **world.hashes}, name="mosquitto-a2d") as broker,
            ingest_process(url, broker, log_dir / "a2d-ingest.log") as ingest,
            worker_process(url, broker, world.worker_password, log_dir / "a2d-worker.log"),
        ):
            phones = []
            for engineer_id, secret in world.engineers.items():
                phone = _client(broker, engineer_username(engineer_id), secret)
                phone.on_message = inbox.on_message
                phone.subscribe(dispatch_topic(engineer_id), qos=1)
                phones.append(phone)
            with connected(phones):
                seq = warm_up(url, broker, fleet, first_seq=1)
                load_seconds = 4 + options.samples * options.interval_s + 4
                loads: list[LoadRun] = []
                failures: list[Exception] = []  # reported below, not lost in the thread

                def background() -> None:
                    try:
                        loads.append(
                            run_loadgen(
                                broker,
                                fleet,
                                rate=options.load_rate,
                                seconds=load_seconds,
                                first_seq=seq,
                            )
                        )
                    except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as exc:
                        failures.append(exc)

                loader = threading.Thread(target=background, name="a2d-load", daemon=True)
                loader.start()
                time.sleep(4)  # let the load reach its rate before the first sample
                load_avg_before = os.getloadavg()[0]
                t0, t0_wall, t1_wall = _send_samples(broker, world, options, inbox)
                loader.join(timeout=load_seconds + 240)
                if ingest.poll() is not None:
                    raise RuntimeError("ingest exited during the run")
                stored = _stored_since(url, seq)
        stages = _stages(url, t0_wall, t1_wall)
    if failures or not loads:
        raise RuntimeError(f"background load failed: {failures!r}")
    load = loads[0]
    latencies = [(t1_wall[asset] - t0_wall[asset]) * 1000 for asset in t0_wall if asset in t1_wall]
    missing = len(t0) - len(latencies)
    return {
        "alert_to_dispatch_p50_ms": _pct(latencies, 50),
        "alert_to_dispatch_p99_ms": _pct(latencies, 99) if not missing else None,
        "alert_to_dispatch_max_ms": round(max(latencies), 1) if latencies else None,
        "alert_to_dispatch_p99_goal_ms": P99_GOAL_MS,
        "alert_to_dispatch_p99_ok": bool(latencies)
        and not missing
        and (_pct(latencies, 99) or 0) < P99_GOAL_MS,
        "samples": len(t0),
        "samples_received": len(latencies),
        "samples_not_received": missing,
        "sample_interval_s": options.interval_s,
        "offer_messages": inbox.messages,
        "alert_to_dispatch_engineers": options.engineers,
        "background_load_msgs_per_s": round(load.achieved_rate),
        "background_load_asked_msgs_per_s": options.load_rate,
        "background_load_sent": load.sent,
        "background_load_stored_at_end": stored,
        "background_load_refused": load.refused,
        "background_load_devices": options.load_devices,
        "load_avg_1m_during": round(load_avg_before, 2),
        **stages,
        "logs": [str(log_dir / "a2d-ingest.log"), str(log_dir / "a2d-worker.log")],
    }
