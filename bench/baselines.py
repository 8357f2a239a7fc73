"""The two reference points of the ingest benchmark: a naive subscriber and raw COPY."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as paho
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from bench.fixtures import INGEST_USER, BenchBroker, Fleet, libpq
from bench.loadrun import LoadRun, run_loadgen


def scratch_readings_table(conn: psycopg.Connection, name: str) -> None:
    """A hypertable shaped like `readings` (same columns, PK, 1-day chunks), empty."""
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"CREATE TABLE {name} (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    conn.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (device_id, ts, seq)")
    conn.execute(
        f"SELECT create_hypertable('{name}', by_range('ts', INTERVAL '1 day'), "
        "create_default_indexes => false)"
    )


def measure_copy(url: str, fleet: Fleet, *, rows: int, seed: int = 1) -> dict[str, float]:
    """Binary COPY of `rows` readings rows (the same shape and values ingest writes)."""
    rng = random.Random(seed)
    ids = list(fleet.device_ids.values())
    width = len(fleet.metric_keys)
    start = datetime.now(UTC) - timedelta(hours=1)
    data = [
        (
            ids[i % len(ids)],
            start + timedelta(milliseconds=i // len(ids) * 50),
            i // len(ids) + 1,
            [round(rng.uniform(20, 80), 3) for _ in range(width)],
        )
        for i in range(rows)
    ]
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        scratch_readings_table(conn, "readings_copy")
        began = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            copy_sql = "COPY readings_copy (device_id, ts, seq, values) FROM STDIN (FORMAT BINARY)"
            with cur.copy(copy_sql) as copy:
                copy.set_types(["int4", "timestamptz", "int8", "float8[]"])
                for row in data:
                    copy.write_row(row)
        elapsed = time.perf_counter() - began
        conn.execute("DROP TABLE readings_copy")
    return {
        "copy_rows": rows,
        "copy_seconds": round(elapsed, 3),
        "copy_msgs_per_s": round(rows / elapsed),
        "copy_readings_per_s": round(rows * width / elapsed),
    }


@dataclass
class _NaiveSubscriber:
    """paho callback + one autocommit INSERT per message: what a first version would do."""

    conn: psycopg.Connection
    device_ids: dict[str, int]
    positions: dict[str, int]
    inserted: int = 0
    failed: int = 0

    def on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        try:
            body = orjson.loads(msg.payload)
            values: list[float | None] = [None] * len(self.positions)
            for key, value in body["m"].items():
                values[self.positions[key]] = value
            self.conn.execute(
                "INSERT INTO readings_naive (device_id, ts, seq, values) "
                "VALUES (%s, to_timestamp(%s / 1000.0), %s, %s) ON CONFLICT DO NOTHING",
                (self.device_ids[msg.topic.split("/")[1]], body["ts"], body["seq"], values),
            )
            self.inserted += 1
        except (ValueError, KeyError, psycopg.Error):
            self.failed += 1


def measure_naive(
    url: str, broker: BenchBroker, fleet: Fleet, *, rate: float, seconds: float, first_seq: int
) -> tuple[dict[str, float], LoadRun]:
    """Saturate the naive subscriber and measure the rate it stores messages at."""
    conn = psycopg.connect(libpq(url), autocommit=True)
    scratch_readings_table(conn, "readings_naive")
    positions = {key: index for index, key in enumerate(fleet.metric_keys)}
    naive = _NaiveSubscriber(conn, fleet.device_ids, positions)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-naive", protocol=paho.MQTTv5)
    client.username_pw_set(INGEST_USER, broker.ingest_password)
    connected = threading.Event()

    def on_connect(c: paho.Client, *_: object) -> None:
        c.subscribe("$share/naive/fleet/+/telemetry", qos=1)
        connected.set()

    client.on_connect = on_connect
    client.on_message = naive.on_message
    client.connect("127.0.0.1", broker.port, keepalive=60, clean_start=True)
    client.loop_start()
    try:
        if not connected.wait(15):
            raise RuntimeError("naive subscriber did not connect")
        time.sleep(0.5)
        load = run_loadgen(
            broker, fleet, rate=rate, seconds=seconds, first_seq=first_seq, drain_timeout=5
        )
        # Measure over the publishing window minus its first seconds (connection warm-up).
        window_start = datetime.fromtimestamp(load.start + 2, UTC)
        window_end = datetime.fromtimestamp(load.end, UTC)
        stored = conn.execute(
            "SELECT count(*) FROM readings_naive WHERE received_at >= %s AND received_at < %s",
            (window_start, window_end),
        ).fetchone()
    finally:
        client.disconnect()
        client.loop_stop()
        conn.execute("DROP TABLE IF EXISTS readings_naive")
        conn.close()
    msgs_per_s = (stored[0] if stored else 0) / max(load.end - load.start - 2, 1e-9)
    width = len(fleet.metric_keys)
    return {
        "naive_publish_rate": rate,
        "naive_msgs_per_s": round(msgs_per_s),
        "naive_readings_per_s": round(msgs_per_s * width),
        "naive_failed": naive.failed,
    }, load
