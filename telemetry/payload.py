"""The telemetry payload contract: decode fast (msgspec), validate against the device's model.

    topic   fleet/<device_key>/telemetry
    single  {"ts": 1732262400000 | "2026-11-22T08:00:00Z", "seq": 42, "m": {"oil_temp": 81.5}}
    batch   [ {...}, {...} ]        (a device that buffered while offline)

Each reading is accepted or refused with a reason; docs/telemetry-payload.md has examples.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import msgspec

from core.labels import register_labels
from telemetry.stream import DeviceProfile

TOPIC = re.compile(r"^fleet/([a-z0-9][a-z0-9_-]{2,62})/telemetry$")
MAX_SEQ = 2**63 - 1


class Reason(StrEnum):
    """Why a message or reading went to the dead letters (stable codes, counted in /metrics)."""

    OVERSIZE = "oversize"
    BAD_TOPIC = "bad_topic"
    MALFORMED_JSON = "malformed_json"
    NON_FINITE = "non_finite"
    INVALID_SCHEMA = "invalid_schema"
    UNKNOWN_DEVICE = "unknown_device"
    REVOKED_DEVICE = "revoked_device"
    TOPIC_MISMATCH = "topic_mismatch"
    UNKNOWN_METRIC = "unknown_metric"
    OUT_OF_RANGE = "out_of_range"
    EMPTY = "empty"
    TS_FUTURE = "ts_future"
    TS_PAST = "ts_past"
    DUPLICATE = "duplicate"
    UNPROCESSABLE = "unprocessable"


register_labels(
    "dead_letter_reason",
    {
        Reason.OVERSIZE: "Message too large",
        Reason.BAD_TOPIC: "Wrong topic",
        Reason.MALFORMED_JSON: "Not valid JSON",
        Reason.NON_FINITE: "Value not a number",
        Reason.INVALID_SCHEMA: "Fields missing or wrong",
        Reason.UNKNOWN_DEVICE: "Unknown device",
        Reason.REVOKED_DEVICE: "Device revoked",
        Reason.TOPIC_MISMATCH: "Device sent on another's topic",
        Reason.UNKNOWN_METRIC: "Unknown measurement",
        Reason.OUT_OF_RANGE: "Value out of range",
        Reason.EMPTY: "No readings",
        Reason.TS_FUTURE: "Time in the future",
        Reason.TS_PAST: "Time too far in the past",
        Reason.DUPLICATE: "Sent twice",
        Reason.UNPROCESSABLE: "Could not be stored",
    },
)


class _Reading(msgspec.Struct, forbid_unknown_fields=True):
    ts: int | str
    seq: int
    m: dict[str, float]
    dev: str | None = None


_decoder = msgspec.json.Decoder(_Reading | list[_Reading])


@dataclass(frozen=True, slots=True)
class Accepted:
    device_id: int
    ts: datetime
    seq: int
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int
    max_batch_readings: int
    max_future: timedelta
    max_past: timedelta


def device_key_of(topic: str) -> str | None:
    match = TOPIC.match(topic)
    return match.group(1) if match else None


def decode(payload: bytes, limits: Limits) -> list[_Reading] | Refused:
    """Parse a message into readings, or say why it cannot be parsed at all."""
    if len(payload) > limits.max_payload_bytes:
        return Refused(Reason.OVERSIZE, f"{len(payload)} bytes > {limits.max_payload_bytes}")
    try:
        parsed = _decoder.decode(payload)
    except msgspec.ValidationError as exc:
        if "Number out of range" in str(exc):
            return Refused(Reason.NON_FINITE, f"a number too large for a double: {exc}")
        return Refused(Reason.INVALID_SCHEMA, str(exc))
    except msgspec.DecodeError as exc:
        if re.search(rb"\b-?(NaN|Infinity)\b", payload):
            return Refused(Reason.NON_FINITE, "NaN and Infinity are not numbers in JSON")
        return Refused(Reason.MALFORMED_JSON, str(exc))
    readings = parsed if isinstance(parsed, list) else [parsed]
    if not readings:
        return Refused(Reason.EMPTY, "an empty batch")
    if len(readings) > limits.max_batch_readings:
        return Refused(Reason.OVERSIZE, f"{len(readings)} readings > {limits.max_batch_readings}")
    return readings


def check_device(profile: DeviceProfile | None, key: str) -> Refused | None:
    if profile is None:
        return Refused(Reason.UNKNOWN_DEVICE, f"no device {key!r}")
    if not profile.active:
        return Refused(Reason.REVOKED_DEVICE, f"device {key!r} is revoked")
    return None


def validate(
    reading: _Reading, profile: DeviceProfile, *, now: datetime, limits: Limits
) -> Accepted | Refused:
    """Check one reading against its device's product model; build its values by position."""
    if reading.dev is not None and reading.dev != profile.key:
        return Refused(
            Reason.TOPIC_MISMATCH,
            f"payload names device {reading.dev!r} on {profile.key!r}'s topic",
        )
    if not 0 <= reading.seq <= MAX_SEQ:
        return Refused(Reason.INVALID_SCHEMA, f"seq {reading.seq} out of range")
    ts = _timestamp(reading.ts)
    if isinstance(ts, Refused):
        return ts
    if ts > now + limits.max_future:
        return Refused(Reason.TS_FUTURE, f"ts {ts.isoformat()} is ahead of the server clock")
    if ts < now - limits.max_past:
        return Refused(Reason.TS_PAST, f"ts {ts.isoformat()} is older than retention")
    if not reading.m:
        return Refused(Reason.EMPTY, "no metrics")
    values: list[float | None] = [None] * profile.width
    for key, value in reading.m.items():
        spec = profile.metrics.get(key)
        if spec is None:
            return Refused(Reason.UNKNOWN_METRIC, f"{key!r} is not a metric of this model")
        if not math.isfinite(value):
            return Refused(Reason.NON_FINITE, f"{key} is {value}")
        if not spec.min_value <= value <= spec.max_value:
            return Refused(
                Reason.OUT_OF_RANGE,
                f"{key}={value} outside {spec.min_value}..{spec.max_value} {spec.unit}",
            )
        values[spec.position] = value
    return Accepted(profile.device_id, ts, reading.seq, tuple(values))


def _timestamp(raw: int | str) -> datetime | Refused:
    try:
        if isinstance(raw, int):
            return datetime.fromtimestamp(raw / 1000, UTC)
        parsed = datetime.fromisoformat(raw)
    except (ValueError, OverflowError, OSError):
        return Refused(Reason.INVALID_SCHEMA, f"ts {raw!r} is not epoch ms or ISO-8601")
    if parsed.tzinfo is None:
        return Refused(Reason.INVALID_SCHEMA, f"ts {raw!r} has no time zone")
    return parsed.astimezone(UTC)
