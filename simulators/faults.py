"""Injected faults: what each does to a device, and which devices get which.

A fault starts at a simulated time and then grows: a pressure sensor drifts, a cooler
clogs so the machine overheats, a bearing wears so vibration grows ever faster, a sensor
drops out (its metric is absent from the readings), or the device loses its connection
and sends what it buffered as one batch when it comes back.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from simulators.physics import HOUR, DeviceType, Role


class FaultKind(StrEnum):
    PRESSURE_DRIFT = "pressure_drift"
    OVERHEATING = "overheating"
    BEARING_WEAR = "bearing_wear"
    SENSOR_DROPOUT = "sensor_dropout"
    OFFLINE = "offline"


# the metric role each kind acts on (offline acts on the whole device)
_ROLE = {
    FaultKind.PRESSURE_DRIFT: Role.PRESSURE,
    FaultKind.OVERHEATING: Role.TEMPERATURE,
    FaultKind.BEARING_WEAR: Role.VIBRATION,
}
_DROPPABLE = frozenset(Role) - {Role.COUNTER}


@dataclass(frozen=True)
class Fault:
    """One fault on one device: from `start` (simulated epoch seconds) for `hours`, or for good.

    `rate` is a share of the metric's physical range per hour (drift, overheating), or the
    vibration (mm/s) at which bearing wear starts growing; `direction` is +1 or -1.
    """

    kind: FaultKind
    start: float
    metric: str | None = None
    hours: float | None = None
    rate: float = 0.015
    direction: int = 1

    def active(self, t: float) -> bool:
        if t < self.start:
            return False
        return self.hours is None or t < self.start + self.hours * HOUR

    def elapsed_h(self, t: float) -> float:
        return max(0.0, t - self.start) / HOUR


@dataclass(frozen=True)
class FaultEffect:
    """What a device's faults do at one instant."""

    process_bias: dict[str, float] = field(default_factory=dict)
    sensor_bias: dict[str, float] = field(default_factory=dict)
    dropped: frozenset[str] = frozenset()
    offline: bool = False


def effect_at(kind: DeviceType, faults: Sequence[Fault], t: float) -> FaultEffect:
    """The combined effect of a device's faults at simulated time `t`."""
    process: dict[str, float] = {}
    sensor: dict[str, float] = {}
    dropped: set[str] = set()
    offline = False
    for fault in faults:
        if not fault.active(t):
            continue
        hours = fault.elapsed_h(t)
        if fault.kind is FaultKind.OFFLINE:
            offline = True
        elif fault.kind is FaultKind.SENSOR_DROPOUT and fault.metric:
            dropped.add(fault.metric)
        elif fault.metric:
            m = kind.metric(fault.metric)
            span = m.high - m.low
            if fault.kind is FaultKind.PRESSURE_DRIFT:
                # the sensor reads wrong, the machine is fine: a bias on the reading
                sensor[m.key] = sensor.get(m.key, 0.0) + fault.direction * fault.rate * span * hours
            elif fault.kind is FaultKind.OVERHEATING:
                process[m.key] = process.get(m.key, 0.0) + fault.rate * span * hours
            elif fault.kind is FaultKind.BEARING_WEAR:
                # damage feeds on itself: growth doubles about every 2 hours, up to a seizure
                extra = fault.rate * (math.exp(hours / 3.0) - 1.0)
                process[m.key] = process.get(m.key, 0.0) + min(extra, 0.5 * span)
    return FaultEffect(process, sensor, frozenset(dropped), offline)


def without_dropped(readings: Mapping[str, float], effect: FaultEffect) -> dict[str, float]:
    """The readings a device sends: a sensor that dropped out is simply absent."""
    return {key: value for key, value in readings.items() if key not in effect.dropped}


def applicable(kind: DeviceType, published: Sequence[str], fault: FaultKind) -> list[str]:
    """The metrics of `published` a fault of this kind could act on (["*"] for offline)."""
    if fault is FaultKind.OFFLINE:
        return ["*"]
    roles = {_ROLE[fault]} if fault in _ROLE else _DROPPABLE
    return [m.key for m in kind.metrics if m.key in published and m.role in roles]


@dataclass(frozen=True)
class FaultPlan:
    """Which fault kinds to inject, when, and for how long (simulated hours)."""

    count: int = 0
    kinds: tuple[FaultKind, ...] = tuple(FaultKind)
    start_within_h: float = 2.0
    offline_h: float = 2.0
    dropout_h: float = 6.0


def assign_faults(
    devices: Sequence[tuple[str, DeviceType, Sequence[str]]],
    plan: FaultPlan,
    *,
    start: float,
    seed: int,
) -> dict[str, list[Fault]]:
    """Pick `plan.count` devices and give each one fault, cycling through the kinds.

    `devices` are (key, type, published metric keys); the choice depends only on the seed
    and the device keys, so the same fleet and seed always get the same faults.
    """
    rng = random.Random(f"{seed}:faults")  # noqa: S311  # reproducible scenario, not secrets
    ordered = sorted(devices, key=lambda device: device[0])
    chosen = rng.sample(ordered, min(plan.count, len(ordered)))
    out: dict[str, list[Fault]] = {}
    for index, (key, kind, published) in enumerate(chosen):
        for offset in range(len(plan.kinds)):
            fault_kind = plan.kinds[(index + offset) % len(plan.kinds)]
            targets = applicable(kind, published, fault_kind)
            if targets:
                break
        else:
            continue
        begins = start + rng.uniform(0.0, plan.start_within_h) * HOUR
        metric = None if targets == ["*"] else rng.choice(targets)
        out[key] = [_fault(fault_kind, begins, metric, plan, rng)]
    return out


def _fault(
    kind: FaultKind, start: float, metric: str | None, plan: FaultPlan, rng: random.Random
) -> Fault:
    if kind is FaultKind.OFFLINE:
        return Fault(kind, start, hours=plan.offline_h)
    if kind is FaultKind.SENSOR_DROPOUT:
        return Fault(kind, start, metric, hours=plan.dropout_h)
    if kind is FaultKind.BEARING_WEAR:
        return Fault(kind, start, metric, rate=0.3)
    if kind is FaultKind.OVERHEATING:
        return Fault(kind, start, metric, rate=0.02)
    return Fault(kind, start, metric, rate=0.015, direction=rng.choice((1, -1)))
