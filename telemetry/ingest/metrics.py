"""Prometheus counters of the ingest process."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES = Counter("fieldcrm_ingest_messages", "MQTT messages taken from the subscription")
STORED = Counter("fieldcrm_ingest_readings_stored", "Readings stored (not duplicates)")
DEAD_LETTERS = Counter("fieldcrm_ingest_dead_letters", "Refused messages or readings", ["reason"])
DB_RETRIES = Counter("fieldcrm_ingest_db_retries", "Batches retried after a database error")
BATCH_SECONDS = Histogram(
    "fieldcrm_ingest_batch_seconds",
    "Time to store one batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
