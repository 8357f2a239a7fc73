"""The fleet over the real broker into the real ingest: every reading stored, none refused."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.auth.principal import SYSTEM
from crm.models import OrgKind
from crm.schemas import (
    AssetCreate,
    MetricDefinitionCreate,
    OrganizationCreate,
    ProductModelCreate,
    SiteCreate,
)
from crm.service import create_asset, create_organization, create_product_model, create_site
from fieldcrm.seed import _MODELS
from simulators.cli import main
from simulators.faults import Fault, FaultKind, FaultPlan
from simulators.fleet import DeviceIdentity, Fleet, SimClock, build_machines
from simulators.physics import HOUR, Environment
from telemetry.devices import provision_device
from telemetry.ingest.pipeline import Ingest
from telemetry.models import DeadLetter, Device, Reading
from tests.brokers import LocalBroker
from tests.conftest import IngestWorld
from tests.ingest_support import wait_until

_runs = itertools.count(1)


def excavators(world: IngestWorld, broker: LocalBroker, count: int) -> list[DeviceIdentity]:
    """Committed EX-220 excavators (the demo's metric limits) with devices and broker accounts."""
    code, name, family, metrics = _MODELS[0]
    tag = f"{next(_runs)}-{os.getpid()}-{time.time_ns() % 10**6}"
    with world.sessions() as session:
        maker = create_organization(
            session, actor=SYSTEM,
            data=OrganizationCreate(kind=OrgKind.MANUFACTURER, name=f"Sim maker {tag}"),
        )  # fmt: skip
        owner = create_organization(
            session, actor=SYSTEM,
            data=OrganizationCreate(kind=OrgKind.CUSTOMER, name=f"Sim owner {tag}"),
        )  # fmt: skip
        site = create_site(
            session, actor=SYSTEM,
            data=SiteCreate(org_id=owner.id, name="Pit", address="1 Quarry Rd", lat=48.1, lon=11.5),
        )  # fmt: skip
        model = create_product_model(
            session, actor=SYSTEM,
            data=ProductModelCreate(
                manufacturer_org_id=maker.id, code=f"{code}-{tag}", name=name, family=family
            ),
            metrics=[
                MetricDefinitionCreate(
                    key=key, label=label, unit=unit, min_value=lo, max_value=hi,
                    warn_high=warn, crit_high=crit,
                )
                for key, label, unit, lo, hi, warn, crit in metrics
            ],
        )  # fmt: skip
        out = []
        for index in range(count):
            asset = create_asset(
                session, actor=SYSTEM,
                data=AssetCreate(
                    serial=f"SIM-{tag}-{index}", product_model_id=model.id, site_id=site.id,
                    owner_org_id=owner.id, install_date=time.strftime("%Y-%m-%d"),
                ),
            )  # fmt: skip
            device = provision_device(
                session, actor=SYSTEM, asset_id=asset.id, key=f"dev-sim-{tag}-{index}"
            )
            out.append(
                DeviceIdentity(device.device.key, device.secret, tuple(m[0] for m in metrics))
            )
        session.commit()
    broker.add_accounts({identity.key: identity.secret for identity in out})
    return out


def stored(world: IngestWorld, keys: list[str]) -> int:
    with world.sessions() as session:
        query = (
            select(func.count())
            .select_from(Reading)
            .join(Device, Device.id == Reading.device_id)
            .where(Device.key.in_(keys))
        )
        return int(session.scalar(query) or 0)


def dead_letters(world: IngestWorld, keys: list[str]) -> list[str]:
    with world.sessions() as session:
        query = select(DeadLetter.reason, DeadLetter.detail).where(DeadLetter.device_key.in_(keys))
        return [f"{reason}: {detail}" for reason, detail in session.execute(query)]


def test_an_offline_device_sends_its_buffer_as_one_batch_the_ingest_stores(
    ingest: Ingest, ingest_world: IngestWorld, mqtt_broker: LocalBroker
) -> None:
    identities = excavators(ingest_world, mqtt_broker, 2)
    speed = 3600.0  # a simulated hour per real second
    clock = SimClock(speed)
    offline = Fault(FaultKind.OFFLINE, clock.origin + 1 * HOUR, hours=1.5)
    machines = build_machines(
        identities, seed=5, env=Environment(), start=clock.origin, plan=FaultPlan(),
        faults={identities[0].key: [offline]},
    )  # fmt: skip
    fleet = Fleet(machines, mqtt_url=mqtt_broker.url, clock=clock, env=Environment(),
                  interval_s=0.1)  # fmt: skip
    fleet.connect()
    try:
        stats = fleet.run(threading.Event(), duration_s=4.0)
    finally:
        fleet.close()

    sent = sum(machine.seq for machine in machines)
    assert stats.batches == 1
    assert stats.batched_readings >= 10
    keys = [identity.key for identity in identities]
    wait_until(lambda: stored(ingest_world, keys) == sent, timeout=60, what="every reading stored")
    assert dead_letters(ingest_world, keys) == []
    assert all(not machine.buffer and not machine.offline for machine in machines)


def test_simulate_command_runs_the_first_n_devices_of_the_file_for_its_duration(
    ingest: Ingest,
    ingest_world: IngestWorld,
    mqtt_broker: LocalBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    identities = excavators(ingest_world, mqtt_broker, 3)
    devices_file = tmp_path / "devices.json"
    devices_file.write_text(
        json.dumps(
            [{"key": i.key, "secret": i.secret, "metrics": list(i.metrics)} for i in identities]
        )
    )
    argv = ["--devices-file", str(devices_file), "--mqtt-url", mqtt_broker.url, "--devices", "2",
            "--faults", "0", "--duration", "2", "--no-engineers", "--no-pickups"]  # fmt: skip
    assert main(argv) == 0

    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["devices"] == 2
    assert summary["refused"] == 0
    used = [identity.key for identity in identities[:2]]
    wait_until(
        lambda: stored(ingest_world, used) >= summary["published"] > 0, timeout=60, what="readings"
    )
    assert stored(ingest_world, [identities[2].key]) == 0
    assert dead_letters(ingest_world, used) == []
