"""A benchmark's own database and broker: created fresh, torn down even on failure."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.broker import SERVICE_USER_PREFIX, mosquitto_hash, write_password_file
from core.config import get_settings
from core.db import make_engine
from core.jobs import libpq_conninfo
from crm import service
from crm.models import OrgKind
from crm.schemas import (
    AssetCreate,
    MetricDefinitionCreate,
    OrganizationCreate,
    ProductModelCreate,
    SiteCreate,
)
from fieldcrm.migrate import upgrade
from fieldcrm.services.base import free_port, service_user
from fieldcrm.services.mosquitto import BrokerPaths, paths, start_broker, stop_broker, write_config
from telemetry.models import Device

INGEST_USER = f"{SERVICE_USER_PREFIX}ingest"
# The six metrics of the bench's product model, in position order; plausible wide limits so
# that a drifting simulated value is never refused as out of range.
METRICS = (
    ("hydraulic_pressure", "bar"),
    ("oil_temp", "°C"),
    ("engine_rpm", "rpm"),
    ("vibration", "mm/s"),
    ("fuel_level", "%"),
    ("coolant_temp", "°C"),
)


@dataclass(frozen=True)
class Fleet:
    """The bench's devices: credentials file for the load generator, key -> device id."""

    devices_file: Path
    device_ids: dict[str, int]
    metric_keys: tuple[str, ...]


@dataclass(frozen=True)
class BenchBroker:
    url: str
    port: int
    paths: BrokerPaths
    ingest_password: str


def libpq(url: str) -> str:
    """The libpq conninfo psycopg wants, from the SQLAlchemy URL the settings give."""
    return libpq_conninfo(url)


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A freshly created database in the project's cluster, dropped on the way out."""
    base = make_url(get_settings().resolved_database_url())
    url = base.set(database=name).render_as_string(hide_password=False)
    admin = libpq(base.set(database="postgres").render_as_string(hide_password=False))
    ident = sql.Identifier(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


def migrated(url: str) -> str:
    """Bring the scratch database to every head (a parallel branch must not stop a bench)."""
    upgrade(url, "heads")
    return url


def create_fleet(url: str, *, devices: int, work_dir: Path) -> tuple[Fleet, dict[str, str]]:
    """Assets of one 6-metric product model, one device each; return the fleet and hashes."""
    keys = [f"bench-{index:05d}" for index in range(devices)]
    secrets_by_key = {key: secrets.token_urlsafe(18) for key in keys}
    # PBKDF2 releases the GIL: hash on both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashes = dict(zip(keys, pool.map(mosquitto_hash, secrets_by_key.values()), strict=True))
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            asset_ids = _create_assets(session, devices)
            rows = [
                Device(key=key, asset_id=asset_id, secret_hash=hashes[key], status="active")
                for key, asset_id in zip(keys, asset_ids, strict=True)
            ]
            session.add_all(rows)
            session.flush()
            device_ids = {row.key: row.id for row in rows}
    finally:
        engine.dispose()
    devices_file = work_dir / "devices.json"
    creds = [{"key": key, "secret": secret} for key, secret in secrets_by_key.items()]
    devices_file.write_text(json.dumps(creds))
    devices_file.chmod(0o600)
    fleet = Fleet(devices_file, device_ids, tuple(key for key, _ in METRICS))
    return fleet, hashes


def _create_assets(session: Session, count: int) -> list[int]:
    maker = service.create_organization(
        session,
        actor=SYSTEM,
        data=OrganizationCreate(kind=OrgKind.MANUFACTURER, name="Bench Machinery"),
    )
    model = service.create_product_model(
        session,
        actor=SYSTEM,
        data=ProductModelCreate(
            manufacturer_org_id=maker.id, code="BX-6", name="Bench excavator", family="excavator"
        ),
        metrics=[
            MetricDefinitionCreate(
                key=key,
                label=key.replace("_", " ").title(),
                unit=unit,
                min_value=-1e6,
                max_value=1e6,
            )
            for key, unit in METRICS
        ],
    )
    sites = []
    for number in range(4):
        customer = service.create_organization(
            session,
            actor=SYSTEM,
            data=OrganizationCreate(kind=OrgKind.CUSTOMER, name=f"Bench Customer {number}"),
        )
        site = service.create_site(
            session,
            actor=SYSTEM,
            data=SiteCreate(
                org_id=customer.id,
                name=f"Yard {number}",
                address=f"{number} Bench Road",
                lat=48.1 + number / 100,
                lon=11.5 + number / 100,
            ),
        )
        sites.append(site)
    asset_ids = []
    for index in range(count):
        site = sites[index % len(sites)]
        asset = service.create_asset(
            session,
            actor=SYSTEM,
            data=AssetCreate(
                serial=f"BX-{index:06d}",
                product_model_id=model.id,
                site_id=site.id,
                owner_org_id=site.org_id,
                install_date=date(2025, 1, 1),
            ),
        )
        asset_ids.append(asset.id)
    return asset_ids


@contextmanager
def bench_broker(
    device_hashes: dict[str, str], *, name: str = "mosquitto-bench"
) -> Iterator[BenchBroker]:
    """A private Mosquitto on a free port with the project's config and ACL, stopped after."""
    settings = get_settings()
    user = service_user("mosquitto")
    broker_paths = paths(settings.var_dir / "bench", user, name=name)
    # Start empty: an old persistence file would replay a previous run's sessions.
    shutil.rmtree(broker_paths.root / "data", ignore_errors=True)
    broker_paths.log.unlink(missing_ok=True)  # keep only this run's log, for a post-mortem
    port = free_port()
    write_config(broker_paths, port=port, user=user)
    ingest_password = secrets.token_urlsafe(18)
    write_password_file(
        broker_paths.passwd,
        {INGEST_USER: mosquitto_hash(ingest_password), **device_hashes},
        owner=user,
    )
    start_broker(broker_paths, port=port)
    try:
        yield BenchBroker(f"mqtt://127.0.0.1:{port}", port, broker_paths, ingest_password)
    finally:
        stop_broker(broker_paths)
        shutil.rmtree(broker_paths.root / "data", ignore_errors=True)
        broker_paths.passwd.unlink(missing_ok=True)  # accounts of a database that is gone
