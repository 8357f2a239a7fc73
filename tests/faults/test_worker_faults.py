"""Kill the worker in the middle of turning alerts into dispatched work orders."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from core.config import PROJECT_ROOT
from crm.models import OrgKind
from tests.brokers import LocalBroker
from tests.conftest import IngestWorld
from tests.crm.factories import make_org
from tests.ingest_support import ingest_env, wait_until
from tests.service_orders.dispatch_factories import make_engineer
from tests.service_orders.workorder_factories import make_alert
from tests.telemetry.rule_factories import make_reporting_asset, make_rule

pytestmark = pytest.mark.slow

ALERTS = 10
CAPACITY = 2
ENGINEERS = 3
LOG = PROJECT_ROOT / "test-results" / "faults-worker.log"


def _worker(world: IngestWorld, broker: LocalBroker) -> subprocess.Popen[bytes]:
    env = {
        **ingest_env(world.settings),
        "FIELDCRM_MQTT_WORKER_PASSWORD": broker.passwords["fieldcrm-worker"],
    }
    LOG.parent.mkdir(exist_ok=True)
    start = LOG.stat().st_size if LOG.exists() else 0
    with LOG.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fieldcrm.cli", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
    wait_until(
        lambda: "Starting worker" in LOG.read_text()[start:] or proc.poll() is not None,
        timeout=30,
        what="the worker to start",
    )
    assert proc.poll() is None, LOG.read_text()[-2000:]
    return proc


def _poke(world: IngestWorld, alert_ids: list[int]) -> None:
    """Wake the worker as the ingest would (and for orders a killed worker left waiting)."""
    with world.sessions.begin() as session:
        for alert_id in alert_ids:
            session.execute(text("SELECT pg_notify('alerts', :id)"), {"id": str(alert_id)})
        for (order_id,) in session.execute(
            text("SELECT id FROM work_orders WHERE alert_id = ANY(:ids)"), {"ids": alert_ids}
        ):
            session.execute(text("SELECT pg_notify('work_orders', :id)"), {"id": str(order_id)})


def _count(world: IngestWorld, sql: str, alert_ids: list[int]) -> int:
    with world.sessions() as session:
        return int(session.execute(text(sql), {"ids": alert_ids}).scalar() or 0)


ORDERS = "SELECT count(*) FROM work_orders WHERE alert_id = ANY(:ids)"
PENDING = (
    "SELECT count(*) FROM dispatch_offers o JOIN work_orders w ON w.id = o.work_order_id"
    " WHERE o.status = 'pending' AND w.alert_id = ANY(:ids)"
)


def test_worker_killed_mid_dispatch_leaves_no_alert_behind_and_nothing_twice(
    ingest_world: IngestWorld, mqtt_broker: LocalBroker, tmp_path: Path
) -> None:
    with ingest_world.sessions() as db:
        manufacturer = make_org(db, kind=OrgKind.MANUFACTURER)
        engineer_ids = [
            make_engineer(db, org=manufacturer, km_north=k, capacity=CAPACITY).id
            for k in range(1, ENGINEERS + 1)
        ]
        first = make_reporting_asset(db, family="compressor")
        rule = make_rule(db, first, kind="threshold", severity="critical")
        fleet = [first] + [
            make_reporting_asset(db, model=first.model, owner=first.owner)
            for _ in range(ALERTS - 1)
        ]
        alert_ids = [make_alert(db, reporting, rule).id for reporting in fleet]
        db.commit()

    worker = _worker(ingest_world, mqtt_broker)
    _poke(ingest_world, alert_ids)
    wait_until(
        lambda: _count(ingest_world, ORDERS, alert_ids) >= 1,
        timeout=30,
        what="the first work order",
    )
    worker.send_signal(signal.SIGKILL)
    worker.wait()

    worker = _worker(ingest_world, mqtt_broker)
    try:
        _poke(ingest_world, alert_ids)
        wait_until(
            lambda: (
                _count(ingest_world, ORDERS, alert_ids) == ALERTS
                and _count(ingest_world, PENDING, alert_ids) == ENGINEERS * CAPACITY
            ),
            timeout=60,
            what="every alert's work order and every engineer's offers",
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    with ingest_world.sessions() as session:
        twice = session.execute(
            text(
                "SELECT alert_id FROM work_orders WHERE alert_id = ANY(:ids)"
                " GROUP BY alert_id HAVING count(*) > 1"
            ),
            {"ids": alert_ids},
        ).all()
        loads = session.execute(
            text(
                "SELECT e.id, (SELECT count(*) FROM dispatch_offers o WHERE o.engineer_id = e.id"
                "   AND o.status = 'pending')"
                " + (SELECT count(*) FROM work_orders w WHERE w.engineer_id = e.id"
                "   AND w.status IN ('accepted', 'en_route', 'on_site'))"
                " FROM engineers e WHERE e.id = ANY(:ids)"
            ),
            {"ids": engineer_ids},
        ).all()
    assert twice == []
    assert all(load <= CAPACITY for _, load in loads), loads
    assert sum(load for _, load in loads) == ENGINEERS * CAPACITY
