"""Dispatch benchmark: 10,000 engineers around a region, 1,000 work orders arriving at once.

Prints one JSON line. `decision_*` is dispatch() until it returns (lock the order, rank with
KNN, lock and re-check, decision + offer + status change written), the commit timed apart.
`alert_to_dispatch_*` is measured end to end over MQTT by bench/alert_to_dispatch.py (its own
database, broker, ingest and worker processes) while a background fleet publishes, after the
decision part.

    .venv/bin/python -m bench.dispatch           # both parts, about 5 minutes
    .venv/bin/python -m bench.dispatch --quick   # fewer samples, for development
    .venv/bin/python -m bench.dispatch --skip-decision   # only the end-to-end part
    .venv/bin/python -m bench.dispatch --skip-e2e        # only the decision part
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench import alert_to_dispatch
from bench.fixtures import migrated, scratch_database
from core.auth.principal import SYSTEM
from core.config import get_settings
from core.db import make_engine, utcnow
from crm import service
from crm.models import OrgKind
from crm.schemas import AssetCreate, OrganizationCreate, ProductModelCreate, SiteCreate
from service_orders.dispatch import dispatch
from service_orders.models import WorkOrder

ENGINEERS = 10_000
WORK_ORDERS = 1_000
FAMILIES = ("compressor", "chiller", "pump", "generator")
# a 220 km x 160 km region around Munich
LAT0, LAT1, LON0, LON1 = 47.4, 48.9, 10.5, 13.4
P99_GOAL_MS = 10.0

_ENGINEERS_SQL = """
WITH u AS (
  INSERT INTO users (org_id, email, full_name, role, password_hash)
  SELECT :org, 'eng' || g || '@bench.test', 'Engineer ' || g, 'engineer', 'x'
  FROM generate_series(1, :n) g
  RETURNING id
)
INSERT INTO engineers (user_id, home_base, location, status, max_concurrent_jobs)
SELECT id, p, p,
       CASE WHEN random() < 0.1 THEN 'off_shift' ELSE 'available' END,
       2 + (random() < 0.3)::int
FROM (
  SELECT id, ST_SetSRID(ST_MakePoint(:lon0 + random() * (:lon1 - :lon0),
                                     :lat0 + random() * (:lat1 - :lat0)), 4326)::geography AS p
  FROM u
) x
"""
_SKILLS_SQL = """
INSERT INTO engineer_skills (engineer_id, family, level, certified_until)
SELECT e.id, f.family, 1 + floor(random() * 3)::int,
       CASE WHEN random() < 0.1 THEN DATE '2020-01-01' ELSE DATE '2030-01-01' END
FROM engineers e CROSS JOIN unnest(CAST(:families AS text[])) AS f(family)
WHERE random() < 0.45
"""
_SHIFTS_SQL = """
INSERT INTO shifts (engineer_id, starts_at, ends_at)
SELECT id, start, start + interval '8 hours'
FROM (
  SELECT id, CASE WHEN random() < 0.8 THEN now() - interval '2 hours'
                  ELSE now() + interval '3 hours' END AS start
  FROM engineers WHERE random() < 0.9
) s
"""


def build_world(engine: Engine) -> list[int]:
    """Engineers, skills, shifts, 1,000 assets at scattered sites, and their work orders."""
    rng = random.Random(7)
    with Session(engine) as session, session.begin():
        maker = service.create_organization(
            session, actor=SYSTEM, data=OrganizationCreate(kind=OrgKind.MANUFACTURER, name="Bench")
        )
        customer = service.create_organization(
            session, actor=SYSTEM, data=OrganizationCreate(kind=OrgKind.CUSTOMER, name="Fleet")
        )
        models = {
            family: service.create_product_model(
                session,
                actor=SYSTEM,
                data=ProductModelCreate(
                    manufacturer_org_id=maker.id, code=family, name=family, family=family
                ),
                metrics=[],
            )
            for family in FAMILIES
        }
        box = {"lat0": LAT0, "lat1": LAT1, "lon0": LON0, "lon1": LON1}
        session.execute(text(_ENGINEERS_SQL), {"org": maker.id, "n": ENGINEERS, **box})
        session.execute(text(_SKILLS_SQL), {"families": list(FAMILIES)})
        session.execute(text(_SHIFTS_SQL))
        now = utcnow()
        orders = []
        for index in range(WORK_ORDERS):
            family = rng.choice(FAMILIES)
            site = service.create_site(
                session,
                actor=SYSTEM,
                data=SiteCreate(
                    org_id=customer.id,
                    name=f"Site {index}",
                    address=f"{index} Bench Road",
                    lat=rng.uniform(LAT0, LAT1),
                    lon=rng.uniform(LON0, LON1),
                ),
            )
            asset = service.create_asset(
                session,
                actor=SYSTEM,
                data=AssetCreate(
                    serial=f"B-{index:05d}",
                    product_model_id=models[family].id,
                    site_id=site.id,
                    owner_org_id=customer.id,
                    install_date=date(2025, 1, 1),
                ),
            )
            respond_in = timedelta(hours=rng.choice((2, 4, 8)))
            orders.append(
                WorkOrder(
                    number=f"B-{index:06d}",
                    type="predictive",
                    source="alert",
                    asset_id=asset.id,
                    priority=rng.randint(1, 4),
                    status="new",
                    title="Bearing temperature trending up",
                    required_family=family,
                    required_level=rng.choice((1, 1, 2, 3)),
                    respond_by=now + respond_in,
                    resolve_by=now + respond_in + timedelta(hours=24),
                )
            )
        session.add_all(orders)
        session.flush()
        ids = [order.id for order in orders]
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return ids


def measure(engine: Engine, work_order_ids: list[int]) -> dict[str, Any]:
    """Dispatch every order in turn (one worker, one transaction each), timing each part."""
    settings = get_settings()
    decision_ms, commit_ms = [], []
    offered = escalated = 0
    started = time.perf_counter()
    for work_order_id in work_order_ids:
        with Session(engine, expire_on_commit=False) as session:
            session.connection()  # pool checkout and BEGIN are the worker's, not the decision's
            t0 = time.perf_counter()
            decision = dispatch(session, work_order_id=work_order_id, settings=settings)
            t1 = time.perf_counter()
            session.commit()
            t2 = time.perf_counter()
        decision_ms.append((t1 - t0) * 1000)
        commit_ms.append((t2 - t1) * 1000)
        offered += decision.engineer_id is not None
        escalated += decision.escalated
    elapsed = time.perf_counter() - started
    return {
        "decision_p50_ms": _pct(decision_ms, 50),
        "decision_p99_ms": _pct(decision_ms, 99),
        "decision_max_ms": round(max(decision_ms), 2),
        "commit_p50_ms": _pct(commit_ms, 50),
        "commit_p99_ms": _pct(commit_ms, 99),
        "decisions_per_s": round(len(work_order_ids) / elapsed, 1),
        "offered": offered,
        "escalated": escalated,
    }


def _pct(values: list[float], pct: int) -> float:
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 2)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 samples, for development")
    parser.add_argument("--skip-decision", action="store_true", help="end-to-end part only")
    parser.add_argument("--skip-e2e", action="store_true", help="decision part only")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--interval", type=float, default=0.75, help="seconds between samples")
    parser.add_argument("--load-rate", type=float, default=3000.0, help="background msgs/s")
    return parser.parse_args(argv)


def _decision() -> dict[str, Any]:
    with scratch_database("fieldcrm_bench_dispatch") as url:
        engine = make_engine(migrated(url))
        try:
            build_started = time.perf_counter()
            work_order_ids = build_world(engine)
            build_s = time.perf_counter() - build_started
            result = measure(engine, work_order_ids)
        finally:
            engine.dispose()
    return {
        "engineers": ENGINEERS,
        "work_orders": WORK_ORDERS,
        **result,
        "decision_p99_goal_ms": P99_GOAL_MS,
        "decision_p99_ok": result["decision_p99_ms"] < P99_GOAL_MS,
        "build_s": round(build_s, 1),
    }


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    began = time.perf_counter()
    result: dict[str, Any] = {"bench": "dispatch"}
    if args.skip_decision:
        result.update(decision_p50_ms=None, decision_p99_ms=None)
    else:
        result.update(_decision())
    if args.skip_e2e:
        result.update(alert_to_dispatch_p50_ms=None, alert_to_dispatch_p99_ms=None)
    else:
        samples = args.samples or (20 if args.quick else 80)
        options = alert_to_dispatch.Options(
            samples=samples, interval_s=args.interval, load_rate=args.load_rate
        )
        e2e_started = time.perf_counter()
        result.update(alert_to_dispatch.measure(options))
        result["alert_to_dispatch_wall_s"] = round(time.perf_counter() - e2e_started, 1)
    result["cpus"] = os.cpu_count()
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["wall_s"] = round(time.perf_counter() - began, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
