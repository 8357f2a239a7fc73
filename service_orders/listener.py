"""LISTEN/NOTIFY wake-ups: an alert becomes a work order within a second, not a minute."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql
from sqlalchemy.orm import Session, sessionmaker

from service_orders.intake import consume_alerts

log = logging.getLogger(__name__)
CATCH_UP = ""  # the payload passed after (re)connecting: notifications may have been missed


def listen(
    conninfo: str,
    channels: Sequence[str],
    on_notify: Callable[[str, str], None],
    stop: threading.Event,
    *,
    poll_seconds: float = 0.5,
    retry_seconds: float = 1.0,
) -> None:
    """Call on_notify(channel, payload) for each notification until `stop`; reconnects."""
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                for channel in channels:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                for channel in channels:
                    on_notify(channel, CATCH_UP)
                while not stop.is_set():
                    for notice in conn.notifies(timeout=poll_seconds):
                        on_notify(notice.channel, notice.payload)
        except psycopg.OperationalError as exc:
            log.warning("LISTEN connection lost (%s); reconnecting", exc)
            stop.wait(retry_seconds)


def run_on_notify(
    conninfo: str,
    channel: str,
    work: Callable[[], object],
    stop: threading.Event,
    *,
    debounce_seconds: float,
    name: str,
) -> None:
    """Run `work` whenever `channel` is notified, at most once per debounce interval.

    A failure is logged and the loop goes on: the periodic sweeps redo whatever was missed.
    """
    wake = threading.Event()
    listener = threading.Thread(
        target=listen,
        args=(conninfo, (channel,), lambda _channel, _payload: wake.set(), stop),
        name=f"{name}-listener",
        daemon=True,
    )
    listener.start()
    while not stop.is_set():
        if not wake.wait(timeout=0.5):
            continue
        wake.clear()
        try:
            work()
        except Exception:  # the thread must outlive a bad moment
            log.exception("%s failed", name)
        stop.wait(debounce_seconds)
    listener.join(timeout=2)


def run_alert_intake(
    conninfo: str,
    sessions: sessionmaker[Session],
    stop: threading.Event,
    *,
    debounce_seconds: float = 0.2,
) -> None:
    """Consume alerts whenever telemetry notifies, at most once per debounce interval."""

    def intake() -> None:
        with sessions.begin() as session:
            consume_alerts(session)

    run_on_notify(
        conninfo, "alerts", intake, stop, debounce_seconds=debounce_seconds, name="alert intake"
    )


def start_alert_intake(
    conninfo: str, sessions: sessionmaker[Session], stop: threading.Event, *, debounce_ms: int
) -> threading.Thread:
    """Run the alert intake in a daemon thread until `stop` is set."""
    thread = threading.Thread(
        target=run_alert_intake,
        args=(conninfo, sessions, stop),
        kwargs={"debounce_seconds": debounce_ms / 1000},
        name="alert-intake",
        daemon=True,
    )
    thread.start()
    return thread
