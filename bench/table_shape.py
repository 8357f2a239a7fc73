"""Readings table shape: narrow vs wide float8[] vs JSONB, measured; prints one JSON line.

For each shape: binary COPY speed, table + index size per million readings, and the time of
a chart query (1-minute buckets of one metric of one device over a day). It works in a
scratch database (`fieldcrm_shape`) that is dropped at the end.

    .venv/bin/python -m bench.table_shape [--devices 20 --interval-s 10]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb, set_json_dumps

from bench.fixtures import libpq, scratch_database

METRICS = ("hydraulic_pressure", "oil_temp", "engine_rpm", "vibration", "fuel_level", "temp")
CHART_DEVICE = 7
CHART_METRIC = 1  # oil_temp

_DDL = {
    "narrow": """CREATE TABLE narrow (device_id int NOT NULL, ts timestamptz NOT NULL,
        metric smallint NOT NULL, value float8 NOT NULL, PRIMARY KEY (device_id, metric, ts))""",
    "wide": """CREATE TABLE wide (device_id int NOT NULL, ts timestamptz NOT NULL,
        seq bigint NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
        values float8[] NOT NULL, PRIMARY KEY (device_id, ts, seq))""",
    "jsonb": """CREATE TABLE jsonb (device_id int NOT NULL, ts timestamptz NOT NULL,
        seq bigint NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
        m jsonb NOT NULL, PRIMARY KEY (device_id, ts, seq))""",
}
_COPY = {
    "narrow": (
        "COPY narrow (device_id, ts, metric, value)",
        ["int4", "timestamptz", "int2", "float8"],
    ),
    "wide": ("COPY wide (device_id, ts, seq, values)", ["int4", "timestamptz", "int8", "float8[]"]),
    "jsonb": ("COPY jsonb (device_id, ts, seq, m)", ["int4", "timestamptz", "int8", "jsonb"]),
}
_CHART = {
    "narrow": "SELECT time_bucket('1 minute', ts) b, avg(value), min(value), max(value) "
    "FROM narrow WHERE device_id = %s AND metric = %s AND ts >= %s AND ts < %s GROUP BY b",
    "wide": "SELECT time_bucket('1 minute', ts) b, avg(values[%s + 1]), min(values[%s + 1]), "
    "max(values[%s + 1]) FROM wide WHERE device_id = %s AND ts >= %s AND ts < %s GROUP BY b",
    "jsonb": "SELECT time_bucket('1 minute', ts) b, avg((m->>%s)::float8), "
    "min((m->>%s)::float8), max((m->>%s)::float8) "
    "FROM jsonb WHERE device_id = %s AND ts >= %s AND ts < %s GROUP BY b",
}


def _messages(
    devices: int, interval_s: int, day: datetime
) -> list[tuple[int, datetime, int, list[float]]]:
    rng = random.Random(42)
    per_device = 86_400 // interval_s
    out = []
    for device in range(1, devices + 1):
        levels = [rng.uniform(20, 80) for _ in METRICS]
        for step in range(per_device):
            levels = [round(v + rng.gauss(0, 0.5), 3) for v in levels]
            out.append((device, day + timedelta(seconds=step * interval_s), step + 1, levels))
    return out


def _rows(
    shape: str, messages: Sequence[tuple[int, datetime, int, list[float]]]
) -> list[tuple[Any, ...]]:
    if shape == "narrow":
        return [(d, ts, i, v) for d, ts, _, values in messages for i, v in enumerate(values)]
    if shape == "wide":
        return [(d, ts, seq, values) for d, ts, seq, values in messages]
    return [
        (d, ts, seq, Jsonb(dict(zip(METRICS, values, strict=True))))
        for d, ts, seq, values in messages
    ]


def _copy(conn: psycopg.Connection, shape: str, rows: Iterable[tuple[Any, ...]]) -> float:
    statement, types = _COPY[shape]
    began = time.perf_counter()
    with (
        conn.transaction(),
        conn.cursor() as cur,
        cur.copy(f"{statement} FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    return time.perf_counter() - began


def _timed(run: Callable[[], object], repeat: int = 7) -> float:
    """Median wall time in ms of a warm query (the first run only warms the cache)."""
    run()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        samples.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(samples), 2)


def _chart(conn: psycopg.Connection, shape: str, day: datetime) -> float:
    end = day + timedelta(days=1)
    if shape == "narrow":
        params: tuple[Any, ...] = (CHART_DEVICE, CHART_METRIC, day, end)
    elif shape == "wide":
        params = (CHART_METRIC, CHART_METRIC, CHART_METRIC, CHART_DEVICE, day, end)
    else:
        key = METRICS[CHART_METRIC]
        params = (key, key, key, CHART_DEVICE, day, end)
    return _timed(lambda: conn.execute(_CHART[shape], params).fetchall())


def _rollup_chart(conn: psycopg.Connection, day: datetime) -> float:
    """The chart as the product serves it: from a 1-minute rollup (as readings_1m)."""
    conn.execute(
        "CREATE TABLE rollup_1m AS SELECT device_id, p::smallint AS position, "
        "time_bucket('1 minute', ts) AS bucket, count(*) AS n, sum(values[p + 1]) AS total, "
        "min(values[p + 1]) AS low, max(values[p + 1]) AS high "
        "FROM wide, generate_series(0, %s) AS p GROUP BY 1, 2, 3",
        (len(METRICS) - 1,),
    )
    conn.execute("ALTER TABLE rollup_1m ADD PRIMARY KEY (device_id, position, bucket)")
    conn.execute("ANALYZE rollup_1m")
    query = (
        "SELECT bucket, total / n, low, high FROM rollup_1m "
        "WHERE device_id = %s AND position = %s AND bucket >= %s AND bucket < %s ORDER BY bucket"
    )
    params = (CHART_DEVICE, CHART_METRIC, day, day + timedelta(days=1))
    return _timed(lambda: conn.execute(query, params).fetchall())


def measure(url: str, devices: int, interval_s: int) -> dict[str, Any]:
    """Load the same day of readings into each shape and measure it."""
    set_json_dumps(orjson.dumps)
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    messages = _messages(devices, interval_s, day)
    readings = len(messages) * len(METRICS)
    result: dict[str, Any] = {"devices": devices, "messages": len(messages), "readings": readings}
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        for shape, ddl in _DDL.items():
            conn.execute(ddl)
            conn.execute(
                f"SELECT create_hypertable('{shape}', by_range('ts', INTERVAL '1 day'), "
                "create_default_indexes => false)"
            )
            rows = _rows(shape, messages)
            seconds = _copy(conn, shape, rows)
            conn.execute(f"VACUUM ANALYZE {shape}")
            size = conn.execute(f"SELECT hypertable_size('{shape}')").fetchone()
            total_bytes = int(size[0]) if size else 0
            result[shape] = {
                "rows": len(rows),
                "copy_seconds": round(seconds, 2),
                "copy_rows_per_s": round(len(rows) / seconds),
                "copy_readings_per_s": round(readings / seconds),
                "mb_per_million_readings": round(total_bytes / readings * 1e6 / 2**20, 1),
                "chart_query_ms": _chart(conn, shape, day),
            }
        result["wide"]["rollup_chart_query_ms"] = _rollup_chart(conn, day)
    return result


def main(argv: list[str] | None = None) -> int:
    """Measure the three shapes in a scratch database and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.table_shape", description=__doc__)
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--interval-s", type=int, default=10, help="seconds between messages")
    parser.add_argument("--database", default="fieldcrm_shape")
    args = parser.parse_args(argv)
    with scratch_database(args.database) as url:
        result = measure(url, args.devices, args.interval_s)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
