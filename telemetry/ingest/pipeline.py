"""The ingest loop: batches from the shared subscription, stored, committed, then acked.

Nothing is acknowledged to the broker before its batch is committed, so a crash loses
nothing: the broker redelivers, and the reading identity makes the redelivery a no-op.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from core.config import Settings
from core.db import utcnow
from core.mqtt import Message, MqttError, service_client, session_client_id
from telemetry.ingest import metrics
from telemetry.ingest.profiles import ProfileCache
from telemetry.ingest.writer import AfterInsert, DeadLetterRow, write_batch
from telemetry.payload import (
    Accepted,
    Limits,
    Reason,
    Refused,
    check_device,
    decode,
    device_key_of,
    validate,
)
from telemetry.stream import DeviceProfile

log = logging.getLogger(__name__)

SUBSCRIPTION = "$share/ingest/fleet/+/telemetry"
SESSION_EXPIRY = 7 * 24 * 3600
_MAX_BACKOFF = 5.0
# the guessable client id of versions before the ids were derived from the password
_LEGACY_CLIENT_ID = "fieldcrm-ingest-{instance}"


@dataclass(frozen=True)
class IngestOptions:
    instance: str = "1"
    batch_max: int = 5000
    batch_wait: float = 0.05
    receive_maximum: int = 20_000
    profile_ttl: float = 30.0


@dataclass
class _Prepared:
    readings: list[Accepted] = field(default_factory=list)
    dead_letters: list[DeadLetterRow] = field(default_factory=list)
    origin: dict[tuple[int, object, int], Message] = field(default_factory=dict)
    profiles: dict[int, DeviceProfile] = field(default_factory=dict)


def ingest_client_id(settings: Settings, instance: str) -> str:
    """The client id naming an ingest instance's persistent session on the broker.

    The same on every start and host (the session holds what arrives while the instance is
    down), and unguessable without the ingest account's password: an account that connected
    with it would take the session, and the instance's share of the stream, over.
    """
    return session_client_id(f"fieldcrm-ingest-{instance}", secret=settings.mqtt_password("ingest"))


def limits_from(settings: Settings) -> Limits:
    return Limits(
        settings.telemetry_max_payload_bytes,
        settings.telemetry_max_batch_readings,
        timedelta(seconds=settings.telemetry_max_future_seconds),
        timedelta(days=settings.telemetry_max_past_days),
    )


class Ingest:
    """One ingest process: any number may share the subscription."""

    def __init__(
        self,
        settings: Settings,
        sessions: Callable[[], Session],
        *,
        options: IngestOptions = IngestOptions(),
        after_insert: AfterInsert | None = None,
        client_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.sessions = sessions
        self.after_insert = after_insert
        self.limits = limits_from(settings)
        self.profiles = ProfileCache(options.profile_ttl)
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.client = service_client(
            settings,
            "ingest",
            client_id=client_id or ingest_client_id(settings, options.instance),
            clean_start=False,
            session_expiry=SESSION_EXPIRY,
            manual_ack=True,
            receive_maximum=options.receive_maximum,
            on_message=self.inbox.put,
        )
        self.client.subscribe(SUBSCRIPTION, qos=1)
        self._window = {"since": time.monotonic(), "messages": 0, "stored": 0, "dead": 0}

    def run(self, stop: threading.Event, *, leave: bool = False) -> None:
        """Consume until `stop` is set; the batch in hand is finished first.

        The broker session is kept on a normal stop: the broker goes on queueing this
        instance's share of the stream until it is back (a shared subscription also hands
        messages to offline members). `leave` is for scaling down for good: unsubscribe,
        store and acknowledge what is still in flight, then end the session.
        """
        self._leave_legacy_session()
        self._connect(stop)
        try:
            while not stop.is_set():
                batch = self._take(stop)
                if batch:
                    self.process(batch, stop)
            if leave and self.client.connected:
                self._drain()
        finally:
            self.client.close(end_session=leave)

    def _leave_legacy_session(self) -> None:
        """Store what the session under the old, guessable client id still holds, then end it.

        It is resumed, never created: connecting without subscriptions, a session that is
        not there is not made a member of the shared subscription.
        """
        legacy = Ingest(
            self.settings,
            self.sessions,
            options=self.options,
            after_insert=self.after_insert,
            client_id=_LEGACY_CLIENT_ID.format(instance=self.options.instance),
        )
        legacy.client.subscriptions.clear()
        try:
            legacy.client.connect()
        except MqttError:
            return  # the broker is away or refuses: the instance's own connect says so
        if legacy.client.session_present:
            legacy._drain()
        legacy.client.close(end_session=True)

    def _drain(self) -> None:
        self.client.unsubscribe(SUBSCRIPTION)
        never = threading.Event()
        while batch := self._take(never):
            self.process(batch)
        log.info("ingest %s left the shared subscription", self.options.instance)

    def process(self, batch: list[Message], stop: threading.Event | None = None) -> None:
        """Store one batch and acknowledge it; a database outage is waited out."""
        metrics.MESSAGES.inc(len(batch))
        started = time.monotonic()
        if not self._store_with_retry(batch, stop):
            return  # stopping during an outage: unacked messages will be redelivered
        metrics.BATCH_SECONDS.observe(time.monotonic() - started)
        for message in batch:
            self.client.ack(message)
        self._window["messages"] += len(batch)
        self._report()

    def _report(self) -> None:
        """One log line every 10 s: what came in, what was stored, what was refused."""
        window = self._window
        elapsed = time.monotonic() - window["since"]
        if elapsed < 10:
            return
        log.info(
            "ingest %s: %.0f msg/s in, %.0f rows/s stored, %d dead letters in %.0f s",
            self.options.instance,
            window["messages"] / elapsed,
            window["stored"] / elapsed,
            window["dead"],
            elapsed,
        )
        self._window = {"since": time.monotonic(), "messages": 0, "stored": 0, "dead": 0}

    def _connect(self, stop: threading.Event) -> None:
        delay = 1.0
        while True:  # at least one attempt, even when asked to stop (to drain and leave)
            try:
                self.client.connect()
                log.info("ingest %s subscribed to %s", self.options.instance, SUBSCRIPTION)
                return
            except MqttError as exc:
                log.warning("broker unavailable (%s); retrying in %.0f s", exc, delay)
                if stop.wait(delay):
                    return
                delay = min(delay * 2, 30.0)

    def _take(self, stop: threading.Event) -> list[Message]:
        try:
            first = self.inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.options.batch_wait
        while len(batch) < self.options.batch_max and not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=remaining))
            except queue.Empty:
                break
        # messages of an earlier connection come again from the broker; drop these copies
        current = self.client.generation
        return [m for m in batch if m.generation == current]

    def _store_with_retry(self, batch: list[Message], stop: threading.Event | None) -> bool:
        delay = 0.2
        while True:
            try:
                self._store(batch)
                return True
            except OperationalError as exc:
                metrics.DB_RETRIES.inc()
                log.warning(
                    "database unavailable (%s); retrying the batch in %.1f s",
                    str(exc.orig).strip().splitlines()[0],
                    delay,
                )
            except DBAPIError:
                self._bisect(batch)
                return True
            if stop is not None and stop.wait(delay):
                return False
            if stop is None:
                time.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF)

    def _bisect(self, batch: list[Message]) -> None:
        """A batch the database refuses for its content: store halves, dead-letter the culprit."""
        if len(batch) == 1:
            log.exception("message on %s refused by the database", batch[0].topic)
            letter = _letter(batch[0], Reason.UNPROCESSABLE, "refused by the database")
            with self.sessions() as session:
                write_batch(
                    session,
                    readings=[],
                    dead_letters=[letter],
                    profiles={},
                    duplicate_letter=lambda r: letter,
                )
                session.commit()
            metrics.DEAD_LETTERS.labels(Reason.UNPROCESSABLE).inc()
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            try:
                self._store(half)
            except OperationalError:
                raise
            except DBAPIError:
                self._bisect(half)

    def _store(self, batch: list[Message]) -> None:
        with self.sessions() as session:
            prepared = self._prepare(session, batch)

            def duplicate(reading: Accepted) -> DeadLetterRow:
                source = prepared.origin[(reading.device_id, reading.ts, reading.seq)]
                return _letter(
                    source,
                    Reason.DUPLICATE,
                    f"seq {reading.seq} at {reading.ts.isoformat()} already stored",
                    device_key_of(source.topic),
                )

            result = write_batch(
                session,
                readings=prepared.readings,
                dead_letters=prepared.dead_letters,
                profiles=prepared.profiles,
                duplicate_letter=duplicate,
                after_insert=self.after_insert,
            )
            session.commit()
        metrics.STORED.inc(result.stored)
        self._window["stored"] += result.stored
        self._window["dead"] += len(prepared.dead_letters) + len(result.duplicates)
        for letter in prepared.dead_letters:
            metrics.DEAD_LETTERS.labels(letter.reason).inc()
        if result.duplicates:
            metrics.DEAD_LETTERS.labels(Reason.DUPLICATE).inc(len(result.duplicates))

    def _prepare(self, session: Session, batch: list[Message]) -> _Prepared:
        prepared = _Prepared()
        keys = {key for m in batch if (key := device_key_of(m.topic)) is not None}
        profiles = self.profiles.get(session, keys)
        now = utcnow()
        for message in batch:
            try:
                self._prepare_message(message, profiles, now, prepared)
            except Exception:  # a payload must never take the process down
                log.exception("unexpected failure on a message from %s", message.topic)
                prepared.dead_letters.append(
                    _letter(message, Reason.UNPROCESSABLE, "internal error; see the ingest log")
                )
        return prepared

    def _prepare_message(
        self,
        message: Message,
        profiles: dict[str, DeviceProfile | None],
        now: object,
        prepared: _Prepared,
    ) -> None:
        key = device_key_of(message.topic)
        if key is None:
            prepared.dead_letters.append(_letter(message, Reason.BAD_TOPIC, message.topic))
            return
        profile = profiles.get(key)
        refused = check_device(profile, key)
        decoded = refused or decode(message.payload, self.limits)
        if isinstance(decoded, Refused):
            prepared.dead_letters.append(_letter(message, decoded.reason, decoded.detail, key))
            return
        assert profile is not None
        for index, raw in enumerate(decoded):
            outcome = validate(raw, profile, now=now, limits=self.limits)  # type: ignore[arg-type]  # datetime
            if isinstance(outcome, Refused):
                where = f"reading {index}: " if len(decoded) > 1 else ""
                prepared.dead_letters.append(
                    _letter(message, outcome.reason, where + outcome.detail, key)
                )
                continue
            prepared.readings.append(outcome)
            prepared.origin.setdefault((outcome.device_id, outcome.ts, outcome.seq), message)
            prepared.profiles[profile.device_id] = profile


def _letter(message: Message, reason: Reason, detail: str, key: str | None = None) -> DeadLetterRow:
    return DeadLetterRow(message.topic, key, reason.value, detail, message.payload)
