"""Customer device page benchmark (issue 7): a device with 90 days of readings at a 10 s
interval, its page and chart endpoint under 50 concurrent customer sessions while a fleet
publishes through the real ingest.

Everything is of its own: a scratch database (`fieldcrm_bench_pages`, dropped at the end), a
private Mosquitto, `fieldcrm ingest`, simulators.loadgen as the fleet, `fieldcrm web`.
Prints one JSON line.

    .venv/bin/python -m bench.pages           # the full run, a few minutes
    .venv/bin/python -m bench.pages --quick   # 7 days of history, 10 sessions, 5 s of load

The history (777,600 messages x 6 metrics) is written with SQL straight into `readings`,
then the 1-minute and 1-hour rollups are built from it with the ingest's own aggregates
(n, total, low, high, last_ts, last), as if the ingest had stored it. Every session loads the
device page and the chart endpoint in turn, the chart cycling through the six metrics and
the windows 24h, 7d, 30d and 90d. Baselines: `baseline_raw_90d_ms` is the 90-day chart
(same bucket width as the endpoint) computed from the raw readings in SQL,
`baseline_rollup_90d_ms` the same from `readings_1h`, and `baseline_healthz_p99_ms` is
`GET /healthz` under the same concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, text

from bench.fixtures import BenchBroker, Fleet, bench_broker, create_fleet, libpq, migrated
from bench.fixtures import scratch_database as make_scratch_database
from bench.loadrun import LoadRun, run_loadgen
from bench.product import ingest_available, ingest_process, warm_up
from bench.web_load import (
    WebServer,
    WebSession,
    close_all,
    healthz_baseline,
    keep_pages,
    load_model,
    log_in_all,
    metered_load,
    probe,
    serial_figures,
    web_server,
)
from core.auth.passwords import hash_password
from core.config import get_settings
from core.db import make_engine
from telemetry.queries.series import choose_buckets

LIMIT_P99_MS = 200.0
INTERVAL_S = 10
WINDOWS = ("24h", "7d", "30d", "90d")
FIRST_LOADGEN_SEQ = 10_000_000  # above every seq of the generated history

# Six plausible signals (daily cycles, noise, a slow wear trend) in the fleet's metric order:
# hydraulic_pressure, oil_temp, engine_rpm, vibration, fuel_level, coolant_temp.
_HISTORY_SQL = """
INSERT INTO readings (device_id, ts, seq, received_at, values)
SELECT :device, ts, g, ts + interval '150 milliseconds',
       ARRAY[120 + 15 * sin(2 * pi() * d) + 4 * random(),
             70 + 8 * sin(2 * pi() * d - 1) + 2 * random(),
             1800 + 150 * sin(2 * pi() * d) + 60 * random(),
             2 + 1.5 * g / :n + 0.4 * random(),
             100 - 90 * (d - floor(d)) + random(),
             85 + 5 * sin(2 * pi() * d - 1) + random()]::float8[]
FROM (
  SELECT g, ts, extract(epoch FROM ts) / 86400 AS d
  FROM (SELECT g, CAST(:first AS timestamptz) + g * interval '10 seconds' AS ts
        FROM generate_series(0, :n - 1) g) s
) x
"""
_MINUTE_SQL = """
INSERT INTO readings_1m (device_id, position, bucket, n, total, low, high, last_ts, last)
SELECT device_id, (o - 1)::smallint, time_bucket('1 minute', ts), count(*), sum(v), min(v),
       max(v), max(ts), (array_agg(v ORDER BY ts DESC))[1]
FROM readings, unnest(values) WITH ORDINALITY AS u(v, o)
WHERE device_id = :device AND v IS NOT NULL
GROUP BY 1, 2, 3
"""
_HOUR_SQL = """
INSERT INTO readings_1h (device_id, position, bucket, n, total, low, high, last_ts, last)
SELECT device_id, position, time_bucket('1 hour', bucket), sum(n), sum(total), min(low),
       max(high), max(last_ts), (array_agg(last ORDER BY last_ts DESC))[1]
FROM readings_1m WHERE device_id = :device
GROUP BY 1, 2, 3
"""
_CUSTOMERS_SQL = """
INSERT INTO users (org_id, email, full_name, role, password_hash)
SELECT :org, 'viewer' || lpad(g::text, 3, '0') || '@customer.bench', 'Viewer ' || g,
       'customer', :hash
FROM generate_series(1, :n) g
RETURNING email
"""
_RAW_CHART_SQL = """
SELECT time_bucket(%(width)s, ts) AS slot, avg(values[1]), min(values[1]), max(values[1])
FROM readings WHERE device_id = %(device)s AND ts >= now() - %(window)s AND ts < now()
GROUP BY slot ORDER BY slot
"""
_ROLLUP_CHART_SQL = """
SELECT time_bucket(%(width)s, bucket) AS slot, sum(total) / sum(n), min(low), max(high)
FROM readings_1h
WHERE device_id = %(device)s AND position = 0 AND bucket >= now() - %(window)s
      AND bucket < now()
GROUP BY slot ORDER BY slot
"""


@dataclass(frozen=True)
class Target:
    """The device with history, whose owner's users load its page."""

    asset_id: int
    device_id: int
    owner_org_id: int
    readings: int


def build_history(engine: Engine, fleet: Fleet, *, days: int) -> tuple[Target, dict[str, Any]]:
    """`days` of 10 s readings for the fleet's first device, ending just now, and the rollups."""
    device_id = fleet.device_ids[min(fleet.device_ids)]
    count = days * 86400 // INTERVAL_S
    timings: dict[str, Any] = {}
    with engine.connect() as conn:
        first = conn.execute(
            text("SELECT date_trunc('minute', now()) - make_interval(secs => :n * :step)"),
            {"n": count, "step": INTERVAL_S},
        ).scalar_one()
        asset_id, owner = conn.execute(
            text(
                "SELECT a.id, a.owner_org_id FROM devices d JOIN assets a ON a.id = d.asset_id "
                "WHERE d.id = :device"
            ),
            {"device": device_id},
        ).one()
        conn.execute(text("SELECT setseed(0.7)"))
        for name, statement, params in (
            ("history_s", _HISTORY_SQL, {"device": device_id, "n": count, "first": first}),
            ("rollup_1m_s", _MINUTE_SQL, {"device": device_id}),
            ("rollup_1h_s", _HOUR_SQL, {"device": device_id}),
        ):
            started = time.perf_counter()
            conn.execute(text(statement), params)
            conn.commit()
            timings[name] = round(time.perf_counter() - started, 1)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return Target(asset_id, device_id, owner, count), timings


def add_viewers(engine: Engine, target: Target, *, count: int, password: str) -> list[str]:
    """`count` customer users of the device's owner, one argon2 hash shared by all."""
    with engine.begin() as conn:
        rows = conn.execute(
            text(_CUSTOMERS_SQL),
            {"org": target.owner_org_id, "n": count, "hash": hash_password(password)},
        )
        return [str(email) for (email,) in rows]


def _median_ms(conn: psycopg.Connection, query: str, params: dict[str, Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        conn.execute(query, params).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def sql_baselines(url: str, target: Target, *, days: int) -> dict[str, Any]:
    """The longest window's chart computed in SQL from raw readings and from the hour rollup."""
    window = timedelta(days=days)
    end = datetime.now(UTC)
    width = choose_buckets(end - window, end).width  # the endpoint's bucket width
    params = {"width": width, "device": target.device_id, "window": window}
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        return {
            f"baseline_raw_{days}d_ms": _median_ms(conn, _RAW_CHART_SQL, params, runs=3),
            f"baseline_rollup_{days}d_ms": _median_ms(conn, _ROLLUP_CHART_SQL, params, runs=3),
            "baseline_bucket_s": int(width.total_seconds()),
        }


def device_pages(target: Target, metrics: tuple[str, ...]) -> list[tuple[str, str]]:
    """Device page and chart in turn; the charts cycle through every metric and window."""
    pages = []
    for index in range(len(metrics) * len(WINDOWS) // 2):
        metric = metrics[index % len(metrics)]
        window = WINDOWS[index % len(WINDOWS)]
        pages.append(("device_page", f"/customer/devices/{target.asset_id}"))
        pages.append(
            (
                f"chart:{window}",
                f"/api/customer/devices/{target.asset_id}/series?metric={metric}&window={window}",
            )
        )
    return pages


class Publisher(threading.Thread):
    """The background fleet: simulators.loadgen at a modest rate for a fixed time."""

    def __init__(self, broker: BenchBroker, fleet: Fleet, *, rate: float, seconds: float, seq: int):
        super().__init__(daemon=True)
        self.broker, self.fleet = broker, fleet
        self.rate, self.seconds, self.seq = rate, seconds, seq
        self.report: LoadRun | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.report = run_loadgen(
                self.broker, self.fleet, rate=self.rate, seconds=self.seconds, first_seq=self.seq
            )
        # reported in the result, not lost in a thread
        except (RuntimeError, ValueError, KeyError, subprocess.SubprocessError) as exc:
            self.error = exc


async def measure_pages(
    server: WebServer, sessions_list: list[WebSession], *, seconds: float, think_s: float
) -> dict[str, Any]:
    """Healthz under the same concurrency, then the device page and charts, then one alone."""
    result: dict[str, Any] = {}
    statuses = await probe(sessions_list)
    result["page_probe_status"] = statuses
    present = {label for label, status in statuses.items() if status == 200}
    result.update(await healthz_baseline(sessions_list, seconds=min(seconds, 10.0)))
    keep_pages(sessions_list, present)
    if not present:
        result["pages_note"] = "no customer page answered 200 in this checkout: not measured"
        return result
    load, cpu = await metered_load(server, sessions_list, seconds=seconds, think_s=think_s)
    result.update(load.figures())
    result.update({f"load_{key}": value for key, value in cpu.items()})
    result["load_s"] = seconds
    result.update(await serial_figures(sessions_list[0], seconds=min(seconds, 5.0)))
    return result


async def _sessions_and_load(
    server: WebServer,
    emails: list[str],
    password: str,
    pages: list[tuple[str, str]],
    publisher: Publisher,
    seconds: float,
    think_s: float,
) -> dict[str, Any]:
    began = time.perf_counter()
    sessions_list = await log_in_all(server.url, [(email, password) for email in emails])
    result: dict[str, Any] = {
        "sessions": len(sessions_list),
        "login_s": round(time.perf_counter() - began, 1),
    }
    try:
        for index, session in enumerate(sessions_list):
            shift = index % len(pages)
            session.pages = pages[shift:] + pages[:shift]
        publisher.start()
        await asyncio.sleep(1.0)  # the fleet connects and starts publishing
        result.update(await measure_pages(server, sessions_list, seconds=seconds, think_s=think_s))
    finally:
        await close_all(sessions_list)
    return result


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="7 days, 10 sessions, 5 s of load")
    parser.add_argument("--days", type=int, default=None, help="history of the device")
    parser.add_argument("--sessions", type=int, default=None)
    parser.add_argument("--load-seconds", type=float, default=None)
    parser.add_argument("--fleet", type=int, default=200, help="publishing devices")
    parser.add_argument("--fleet-rate", type=float, default=20.0, help="msgs/s of the fleet")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument(
        "--think-s", type=float, default=0.0, help="mean pause after each page (0: closed loop)"
    )
    parser.add_argument("--database", default="fieldcrm_bench_pages")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns the figures main prints."""
    days = args.days or (7 if args.quick else 90)
    sessions = args.sessions or (10 if args.quick else 50)
    seconds = args.load_seconds or (5.0 if args.quick else 25.0)
    password = secrets.token_urlsafe(16)  # every bench viewer's, this run only
    began = time.perf_counter()
    result: dict[str, Any] = {"bench": "pages", "history_days": days}
    settings = get_settings()
    with (
        tempfile.TemporaryDirectory(prefix="fieldcrm-bench-") as tmp,
        make_scratch_database(args.database) as url,
    ):
        migrated(url)
        fleet, hashes = create_fleet(url, devices=args.fleet, work_dir=Path(tmp))
        engine = make_engine(url)
        try:
            target, timings = build_history(engine, fleet, days=days)
            emails = add_viewers(engine, target, count=sessions, password=password)
        finally:
            engine.dispose()
        result.update(timings)
        result["history_readings"] = target.readings
        result["history_values"] = target.readings * len(fleet.metric_keys)
        result.update(sql_baselines(url, target, days=days))
        if not ingest_available():
            raise RuntimeError("this checkout has no `fieldcrm ingest`: nothing to publish to")
        with bench_broker(hashes, name="mosquitto-bench-pages") as broker:
            ingest_log = settings.var_dir / "bench" / "pages-ingest.log"
            with ingest_process(url, broker, ingest_log):
                seq = warm_up(url, broker, fleet, first_seq=FIRST_LOADGEN_SEQ)
                publish_s = seconds + min(seconds, 10.0) + min(seconds, 5.0) + 10.0
                publisher = Publisher(
                    broker, fleet, rate=args.fleet_rate, seconds=publish_s, seq=seq
                )
                web_log = settings.var_dir / "bench" / "pages-web.log"
                with web_server(url, workers=args.workers, log=web_log) as server:
                    result["web_workers"] = server.workers
                    pages = device_pages(target, fleet.metric_keys)
                    result.update(
                        asyncio.run(
                            _sessions_and_load(
                                server,
                                emails,
                                password,
                                pages,
                                publisher,
                                seconds,
                                args.think_s,
                            )
                        )
                    )
                publisher.join(timeout=publish_s + 240)
                result.update(_fleet_figures(url, publisher, seq))
    for key in ("device_page_p50_ms", "device_page_p99_ms", "chart_p50_ms", "chart_p99_ms"):
        result.setdefault(key, None)
    result["limit_p99_ms"] = LIMIT_P99_MS
    worst = [result["device_page_p99_ms"], result["chart_p99_ms"]]
    result["p99_ok"] = None if None in worst else max(w for w in worst if w) < LIMIT_P99_MS
    result["load_model"] = load_model(args.think_s)
    result["cpus"] = os.cpu_count()
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["wall_s"] = round(time.perf_counter() - began, 1)
    return result


def _fleet_figures(url: str, publisher: Publisher, first_seq: int) -> dict[str, Any]:
    """What the background fleet sent during the run and what the ingest stored of it."""
    if publisher.error is not None or publisher.report is None:
        return {"fleet_error": repr(publisher.error)}
    report = publisher.report
    deadline = time.monotonic() + 30
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM readings WHERE seq >= %s", (first_seq,)
            ).fetchone()
            stored = int(row[0]) if row else 0
            if stored >= report.sent or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    return {
        "fleet_devices": len(publisher.fleet.device_ids),
        "fleet_rate_msgs_per_s": publisher.rate,
        "fleet_achieved_msgs_per_s": report.achieved_rate,
        "fleet_sent": report.sent,
        "fleet_stored": stored,
    }


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(run(_parse_args(argv))))


if __name__ == "__main__":
    main()
