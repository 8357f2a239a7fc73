"""The product's ingest under a stepped load: what it stores, how fast, how late."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.cpu import CpuMeter
from bench.fixtures import BenchBroker, Fleet, libpq
from bench.loadrun import LoadRun, run_loadgen

_CLI = [sys.executable, "-m", "fieldcrm.cli"]
P99_LIMIT_MS = 1000.0
# The publisher must reach 95% of the asked rate, or the step measures the load generator.
MIN_ACHIEVED = 0.95

_STEP_STATS = """
SELECT count(*),
       count(DISTINCT (device_id, seq)),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY received_at - ts),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY received_at - ts),
       max(received_at - ts)
FROM readings WHERE seq BETWEEN %s AND %s
"""


def ingest_available() -> bool:
    """Whether this checkout has the `fieldcrm ingest` command yet."""
    probe = [*_CLI, "ingest", "--help"]
    return subprocess.run(probe, capture_output=True, timeout=60, check=False).returncode == 0


@contextmanager
def ingest_process(url: str, broker: BenchBroker, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`fieldcrm ingest` against the bench database and broker, stopped on the way out."""
    env = {
        **os.environ,
        "FIELDCRM_DATABASE_URL": url,
        "FIELDCRM_MQTT_URL": broker.url,
        "FIELDCRM_MQTT_INGEST_PASSWORD": broker.ingest_password,
    }
    with log.open("wb") as out:
        proc = subprocess.Popen([*_CLI, "ingest"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class StepResult:
    """One rate step: what was sent, what got stored, how late, and whether it held."""

    rate: float
    load: LoadRun
    stored: int
    distinct: int
    backlog_at_end: int
    drain_s: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    cpu: dict[str, float]

    @property
    def lost(self) -> int:
        return self.load.sent - self.distinct

    @property
    def duplicates(self) -> int:
        return self.stored - self.distinct

    @property
    def shortfalls(self) -> list[str]:
        """Why this step does not count as sustained (empty when it does)."""
        reasons = []
        if self.lost:
            reasons.append(f"{self.lost} not stored within the drain time")
        if self.duplicates:
            reasons.append(f"{self.duplicates} duplicates")
        if self.load.refused:
            reasons.append(f"{self.load.refused} refused by the broker")
        if self.p99_ms is None or self.p99_ms > P99_LIMIT_MS:
            reasons.append(f"p99 {self.p99_ms} ms > {P99_LIMIT_MS:.0f} ms")
        if self.load.achieved_rate < MIN_ACHIEVED * self.rate:
            reasons.append(f"publisher reached only {self.load.achieved_rate:.0f} msgs/s")
        return reasons

    @property
    def sustained(self) -> bool:
        return not self.shortfalls

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "achieved_publish_rate": self.load.achieved_rate,
            "sent": self.load.sent,
            "acked": self.load.acked,
            "stored": self.stored,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "backlog_at_end": self.backlog_at_end,
            "drain_s": self.drain_s,
            "p50_latency_ms": self.p50_ms,
            "p99_latency_ms": self.p99_ms,
            "max_latency_ms": self.max_ms,
            "sustained": self.sustained,
            "shortfalls": self.shortfalls,
            **self.cpu,
        }


def _count(conn: psycopg.Connection, first: int, last: int) -> int:
    row = conn.execute("SELECT count(*) FROM readings WHERE seq BETWEEN %s AND %s", (first, last))
    found = row.fetchone()
    return int(found[0]) if found else 0


def _wait_stored(
    conn: psycopg.Connection, first: int, last: int, expected: int, timeout: float
) -> float:
    began = time.monotonic()
    while _count(conn, first, last) < expected and time.monotonic() - began < timeout:
        time.sleep(0.25)
    return round(time.monotonic() - began, 2)


def _ms(value: Any) -> float | None:
    return None if value is None else round(value.total_seconds() * 1000, 1)


def run_step(
    url: str,
    broker: BenchBroker,
    fleet: Fleet,
    *,
    rate: float,
    seconds: float,
    first_seq: int,
    drain_timeout: float,
    pids: dict[str, int],
) -> StepResult:
    """Publish at `rate` for `seconds`, wait for the backlog to drain, then count and time."""
    meter = CpuMeter(pids)
    load = run_loadgen(broker, fleet, rate=rate, seconds=seconds, first_seq=first_seq)
    cpu = meter.percent()
    last = load.next_seq - 1
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        backlog = load.sent - _count(conn, first_seq, last)
        drain_s = _wait_stored(conn, first_seq, last, load.sent, drain_timeout)
        row = conn.execute(_STEP_STATS, (first_seq, last)).fetchone()
    assert row is not None
    return StepResult(
        rate=rate,
        load=load,
        stored=int(row[0]),
        distinct=int(row[1]),
        backlog_at_end=backlog,
        drain_s=drain_s,
        p50_ms=_ms(row[2]),
        p99_ms=_ms(row[3]),
        max_ms=_ms(row[4]),
        cpu=cpu,
    )


def warm_up(url: str, broker: BenchBroker, fleet: Fleet, *, first_seq: int) -> int:
    """Short slow bursts until ingest stores one whole (it has subscribed); return next seq."""
    deadline = time.monotonic() + 90
    seq = first_seq
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        while time.monotonic() < deadline:
            load = run_loadgen(broker, fleet, rate=500, seconds=2, first_seq=seq)
            _wait_stored(conn, seq, load.next_seq - 1, load.sent, 10)
            stored = _count(conn, seq, load.next_seq - 1)
            seq = load.next_seq
            if stored == load.sent:
                return seq
    raise RuntimeError("ingest did not store a whole warm-up burst within 90 s")


def final_totals(url: str, sent: int, first: int, last: int, timeout: float) -> dict[str, Any]:
    """After every step: wait for the last backlog, then lost and duplicates over the run."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        _wait_stored(conn, first, last, sent, timeout)
        row = conn.execute(
            "SELECT count(*), count(DISTINCT (device_id, seq)) FROM readings "
            "WHERE seq BETWEEN %s AND %s",
            (first, last),
        ).fetchone()
        reasons = conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason")
        dead_letters = {str(reason): int(count) for reason, count in reasons.fetchall()}
    assert row is not None
    return {
        "total_sent": sent,
        "total_stored": int(row[0]),
        "total_lost": sent - int(row[1]),
        "total_duplicates": int(row[0]) - int(row[1]),
        "dead_letters": dead_letters,
    }
