"""Write one batch in one transaction: readings (deduplicated), rollups, dead letters, rules.

The batch is COPYed into a temporary staging table, then moved into the hypertable with
ON CONFLICT DO NOTHING on the reading identity (device, ts, seq), so a redelivered message
never makes a second row. The rows actually inserted feed the 1-minute and 1-hour rollups in
the same statement (mergeable sums, so late data lands in the right bucket) and the rules.
Locks are always taken in (device, position, bucket) order, so two ingest processes writing
the same devices never deadlock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from telemetry.payload import Accepted
from telemetry.stream import DeviceProfile, StoredReading

DEAD_LETTER_PAYLOAD_LIMIT = 2048

AfterInsert = Callable[[Session, Sequence[StoredReading], Mapping[int, DeviceProfile]], object]

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
    device_id int, ts timestamptz, seq bigint, vals float8[]
) ON COMMIT DELETE ROWS
"""

_ROLLUP = """
{name} AS (
    INSERT INTO {table} AS r (device_id, position, bucket, n, total, low, high, last_ts, last)
    SELECT device_id, (o - 1)::smallint, time_bucket('{width}', ts), count(*), sum(v), min(v),
           max(v), max(ts), (array_agg(v ORDER BY ts DESC))[1]
    FROM ins, unnest(vals) WITH ORDINALITY AS u(v, o)
    WHERE v IS NOT NULL
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (device_id, position, bucket) DO UPDATE SET
        n = r.n + excluded.n,
        total = r.total + excluded.total,
        low = least(r.low, excluded.low),
        high = greatest(r.high, excluded.high),
        last = CASE WHEN excluded.last_ts >= r.last_ts THEN excluded.last ELSE r.last END,
        last_ts = greatest(r.last_ts, excluded.last_ts)
)"""

_MOVE = f"""
WITH ins AS (
    INSERT INTO readings (device_id, ts, seq, received_at, values)
    SELECT DISTINCT ON (device_id, ts, seq) device_id, ts, seq, clock_timestamp(), vals
    FROM ingest_stage
    ORDER BY device_id, ts, seq
    ON CONFLICT DO NOTHING
    RETURNING device_id, ts, seq, values AS vals
),
{_ROLLUP.format(name="minute", table="readings_1m", width="1 minute")},
{_ROLLUP.format(name="hour", table="readings_1h", width="1 hour")}
SELECT device_id, ts, seq FROM ins
"""  # noqa: S608  # assembled from the constants above, never from input


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    topic: str
    device_key: str | None
    reason: str
    detail: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class WriteResult:
    stored: int
    duplicates: list[Accepted]


def write_batch(
    session: Session,
    *,
    readings: Sequence[Accepted],
    dead_letters: Sequence[DeadLetterRow],
    profiles: Mapping[int, DeviceProfile],
    duplicate_letter: Callable[[Accepted], DeadLetterRow],
    after_insert: AfterInsert | None = None,
) -> WriteResult:
    """Store a batch (flush only; the caller commits, then acknowledges the messages)."""
    conn = session.connection().connection.driver_connection
    assert conn is not None
    inserted: set[tuple[int, datetime, int]] = set()
    if readings:
        with conn.cursor() as cur:
            cur.execute(_STAGE)
            with cur.copy(
                "COPY ingest_stage (device_id, ts, seq, vals) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int4", "timestamptz", "int8", "float8[]"])
                for r in readings:
                    copy.write_row((r.device_id, r.ts, r.seq, list(r.values)))
            cur.execute(_MOVE)
            inserted = {(d, ts, s) for d, ts, s in cur.fetchall()}
    stored, duplicates = _split(readings, inserted)
    letters = [*dead_letters, *(duplicate_letter(r) for r in duplicates)]
    if letters:
        _insert_dead_letters(conn, letters)
    if after_insert is not None and stored:
        after_insert(session, _as_stored(stored, profiles), profiles)
    return WriteResult(len(stored), duplicates)


def _split(
    readings: Sequence[Accepted], inserted: set[tuple[int, datetime, int]]
) -> tuple[list[Accepted], list[Accepted]]:
    stored: list[Accepted] = []
    duplicates: list[Accepted] = []
    for r in readings:
        identity = (r.device_id, r.ts, r.seq)
        if identity in inserted:
            stored.append(r)
            inserted.discard(identity)  # a second copy in the same batch is a duplicate
        else:
            duplicates.append(r)
    return stored, duplicates


def _as_stored(
    stored: list[Accepted], profiles: Mapping[int, DeviceProfile]
) -> list[StoredReading]:
    stored.sort(key=lambda r: (r.device_id, r.ts, r.seq))
    return [
        StoredReading(
            r.device_id,
            profiles[r.device_id].asset_id,
            profiles[r.device_id].product_model_id,
            r.ts,
            r.seq,
            r.values,
        )
        for r in stored
    ]


def _insert_dead_letters(conn: object, rows: Sequence[DeadLetterRow]) -> None:
    with conn.cursor() as cur:  # type: ignore[attr-defined]  # a psycopg Connection
        cur.executemany(
            "INSERT INTO dead_letters (topic, device_key, reason, detail, payload, payload_size)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (
                    r.topic[:255],
                    r.device_key,
                    r.reason,
                    r.detail[:2000],
                    r.payload[:DEAD_LETTER_PAYLOAD_LIMIT],
                    len(r.payload),
                )
                for r in rows
            ],
        )
