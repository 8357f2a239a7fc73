"""Device types as data, and the pure step that turns a device's state into readings.

A machine runs on a schedule (a day shift, or round the clock) at a load that wanders
slowly; each metric moves towards a target set by that load, the ambient temperature (a
daily cycle) and the machine's wear, with a thermal lag where the physics has one, and
is read with a little sensor noise. Wear grows with running hours. Faults (see
`simulators.faults`) add a process bias to a target or a sensor bias to a reading.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

HOUR = 3600.0
DAY = 24 * HOUR


class Role(StrEnum):
    """What a metric measures; faults pick their metric by role."""

    PRESSURE = "pressure"
    TEMPERATURE = "temperature"
    VIBRATION = "vibration"
    SPEED = "speed"
    POWER = "power"
    CURRENT = "current"
    LEVEL = "level"  # a tank that empties while running and is refilled
    COUNTER = "counter"  # the hour meter


@dataclass(frozen=True)
class MetricModel:
    """How one metric behaves: stopped, idling and at full load, plus lag, noise and wear."""

    key: str
    role: Role
    low: float  # the physical limits the product model accepts
    high: float
    stopped: float = 0.0
    idle: float = 0.0
    full: float = 0.0
    ambient_gain: float = 0.0  # how much of (ambient - 20 °C) reaches the target
    lag_s: float = 0.0  # time constant of the move towards the target
    noise: float = 0.0  # sensor noise (standard deviation)
    wear: float = 0.0  # added to the running target at wear 1.0
    burn_per_h: float = 0.0  # LEVEL: percent used per running hour at full load
    refill_below: float = 15.0  # LEVEL: refilled to 100 when it falls below this


@dataclass(frozen=True)
class Schedule:
    """When the machine runs (local hours, weekdays 0 = Monday) and how heavily."""

    start_h: float = 0.0
    end_h: float = 24.0
    weekdays: frozenset[int] = frozenset(range(7))
    base_load: float = 0.6
    daily_swing: float = 0.0  # load added at the warmest hour of the day
    ambient_load: float = 0.0  # load added per °C above 20 (a chiller works harder in heat)
    wander: float = 0.08  # how far the load wanders around its mean

    def runs_at(self, local_s: float) -> bool:
        day = int(local_s // DAY)
        hour = (local_s % DAY) / HOUR
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
        return weekday in self.weekdays and self.start_h <= hour < self.end_h


@dataclass(frozen=True)
class DeviceType:
    """A kind of machine: its product family, schedule, metrics and how fast it wears."""

    name: str
    family: str
    schedule: Schedule
    metrics: tuple[MetricModel, ...]
    wear_per_running_h: float = 1 / 20_000

    def metric(self, key: str) -> MetricModel:
        return next(m for m in self.metrics if m.key == key)

    def metric_keys(self) -> tuple[str, ...]:
        return tuple(m.key for m in self.metrics)


M, R = MetricModel, Role
EXCAVATOR = DeviceType(
    "excavator",
    "excavator",
    Schedule(start_h=7, end_h=17, weekdays=frozenset(range(5)), base_load=0.65, wander=0.12),
    (
        M("hydraulic_pressure", R.PRESSURE, 0, 450, 0, 45, 270, lag_s=5, noise=5, wear=-25),
        M("oil_temp", R.TEMPERATURE, -30, 150, 0, 20, 55, 1.0, 1200, 0.4, wear=8),
        M("engine_rpm", R.SPEED, 0, 3000, 0, 800, 2100, lag_s=3, noise=20),
        M("vibration", R.VIBRATION, 0, 100, 0.05, 1.2, 3.4, lag_s=5, noise=0.2, wear=2.5),
        M("fuel_level", R.LEVEL, 0, 100, burn_per_h=6.0, noise=0.2),
        M("hour_meter", R.COUNTER, 0, 1_000_000),
    ),
)
COMPRESSOR = DeviceType(
    "air_compressor",
    "compressor",
    Schedule(start_h=6, end_h=22, weekdays=frozenset(range(6)), base_load=0.6, wander=0.15),
    (
        M("discharge_pressure", R.PRESSURE, 0, 20, 0, 7.8, 9.6, lag_s=20, noise=0.1, wear=-0.6),
        M("discharge_temp", R.TEMPERATURE, -20, 200, 0, 40, 60, 1.0, 900, 0.5, wear=10),
        M("oil_temp", R.TEMPERATURE, -20, 150, 0, 30, 48, 1.0, 1500, 0.4, wear=6),
        M("vibration", R.VIBRATION, 0, 100, 0.05, 1.0, 2.2, lag_s=5, noise=0.12, wear=1.2),
        M("motor_current", R.CURRENT, 0, 400, 0, 45, 120, lag_s=2, noise=2, wear=8),
        M("hour_meter", R.COUNTER, 0, 1_000_000),
    ),
)
CHILLER = DeviceType(
    "chiller",
    "chiller",
    Schedule(base_load=0.45, daily_swing=0.15, ambient_load=0.03, wander=0.06),
    (
        M("supply_temp", R.TEMPERATURE, -10, 40, 0, 6.7, 7.3, 0.02, 600, 0.1, wear=1.0),
        M("condenser_pressure", R.PRESSURE, 0, 40, 0, 10, 14, 0.25, 300, 0.15, wear=2.0),
        M("compressor_current", R.CURRENT, 0, 600, 0, 110, 340, lag_s=30, noise=4, wear=25),
        M("vibration", R.VIBRATION, 0, 100, 0.05, 0.8, 1.6, lag_s=5, noise=0.08, wear=1.0),
        M("hour_meter", R.COUNTER, 0, 1_000_000),
    ),
)
GENERATOR = DeviceType(
    "generator",
    "generator",
    Schedule(base_load=0.4, daily_swing=0.3, wander=0.06),
    (
        M("coolant_temp", R.TEMPERATURE, -30, 150, 0, 74, 84, 0.2, 900, 0.4, wear=5),
        M("output_kw", R.POWER, 0, 600, 0, 40, 460, lag_s=10, noise=4),
        M("fuel_level", R.LEVEL, 0, 100, burn_per_h=4.0, refill_below=25.0, noise=0.2),
        M("engine_rpm", R.SPEED, 0, 3000, 0, 1500, 1500, lag_s=3, noise=3),
        M("vibration", R.VIBRATION, 0, 100, 0.05, 1.5, 2.6, lag_s=5, noise=0.15, wear=2.0),
        M("hour_meter", R.COUNTER, 0, 1_000_000),
    ),
)
DEVICE_TYPES: tuple[DeviceType, ...] = (EXCAVATOR, COMPRESSOR, CHILLER, GENERATOR)


@dataclass(frozen=True)
class Environment:
    """Where the fleet works: mean ambient temperature, its daily swing, the local UTC offset."""

    ambient_c: float = 15.0
    ambient_swing_c: float = 6.0
    utc_offset_h: float = 1.0

    def local_s(self, t: float) -> float:
        return t + self.utc_offset_h * HOUR

    def ambient(self, t: float) -> float:
        """Coldest at 03:00 local, warmest at 15:00."""
        hour = (self.local_s(t) % DAY) / HOUR
        return self.ambient_c + self.ambient_swing_c * math.sin(2 * math.pi * (hour - 9) / 24)

    def daylight(self, t: float) -> float:
        """0 at night, 1 at 15:00: the shape of the daily demand."""
        hour = (self.local_s(t) % DAY) / HOUR
        return max(0.0, math.sin(2 * math.pi * (hour - 9) / 24))


@dataclass(frozen=True)
class DeviceState:
    """Everything a device remembers between two steps (levels are the true values)."""

    t: float
    load: float
    wear: float
    running: bool
    levels: Mapping[str, float]


def initial_state(kind: DeviceType, env: Environment, t: float, rng: random.Random) -> DeviceState:
    """A device that has been in service a while: some wear, a part-full tank, hours on it."""
    running = kind.schedule.runs_at(env.local_s(t))
    load = kind.schedule.base_load if running else 0.0
    wear = rng.uniform(0.0, 0.3)
    levels = {}
    for m in kind.metrics:
        if m.role is Role.COUNTER:
            levels[m.key] = float(rng.randrange(200, 9000))
        elif m.role is Role.LEVEL:
            levels[m.key] = rng.uniform(40.0, 100.0)
        else:
            levels[m.key] = _target(m, running, load, wear, env.ambient(t), 0.0)
    return DeviceState(t, load, wear, running, levels)


def step(
    kind: DeviceType,
    state: DeviceState,
    t: float,
    env: Environment,
    rng: random.Random,
    *,
    process_bias: Mapping[str, float] | None = None,
    sensor_bias: Mapping[str, float] | None = None,
) -> tuple[DeviceState, dict[str, float]]:
    """Advance the device to time `t` (simulated epoch seconds); return it and its readings."""
    dt = max(0.0, t - state.t)
    process_bias = process_bias or {}
    sensor_bias = sensor_bias or {}
    running = kind.schedule.runs_at(env.local_s(t))
    load = _next_load(kind.schedule, state, running, dt, t, env, rng) if running else 0.0
    running_h = dt / HOUR if running else 0.0
    wear = min(1.0, state.wear + running_h * kind.wear_per_running_h)
    ambient = env.ambient(t)
    levels: dict[str, float] = {}
    readings: dict[str, float] = {}
    for m in kind.metrics:
        level = _advance(m, state.levels[m.key], running, load, wear, ambient, dt, running_h)
        if m.role not in (Role.COUNTER, Role.LEVEL):
            target = _target(m, running, load, wear, ambient, process_bias.get(m.key, 0.0))
            level = _lagged(level, target, m.lag_s, dt)
        levels[m.key] = level
        measured = level + sensor_bias.get(m.key, 0.0) + (rng.gauss(0, m.noise) if m.noise else 0)
        readings[m.key] = round(min(m.high, max(m.low, measured)), 3)
    return DeviceState(t, load, wear, running, levels), readings


def _next_load(
    schedule: Schedule,
    state: DeviceState,
    running: bool,
    dt: float,
    t: float,
    env: Environment,
    rng: random.Random,
) -> float:
    mean = (
        schedule.base_load
        + schedule.daily_swing * env.daylight(t)
        + schedule.ambient_load * (env.ambient(t) - 20.0)
    )
    previous = state.load if state.running else mean
    # an Ornstein-Uhlenbeck walk: pulled back to the mean within ~15 minutes
    pull = 1.0 - math.exp(-dt / 900.0) if dt else 0.0
    load = previous + (mean - previous) * pull + rng.gauss(0.0, schedule.wander) * math.sqrt(pull)
    return min(1.0, max(0.05, load))


def _target(
    m: MetricModel, running: bool, load: float, wear: float, ambient: float, bias: float
) -> float:
    if m.role is Role.TEMPERATURE and not running:
        return ambient  # a stopped machine cools down to the air around it
    if not running:
        return m.stopped
    base = m.idle + (m.full - m.idle) * load + m.wear * wear + bias
    if m.role is Role.TEMPERATURE and m.ambient_gain >= 1.0:
        return ambient + base  # idle/full are rises over ambient
    return base + m.ambient_gain * (ambient - 20.0)


def _lagged(level: float, target: float, lag_s: float, dt: float) -> float:
    if lag_s <= 0:
        return target
    return target + (level - target) * math.exp(-dt / lag_s)


def _advance(
    m: MetricModel,
    level: float,
    running: bool,
    load: float,
    wear: float,
    ambient: float,
    dt: float,
    running_h: float,
) -> float:
    if m.role is Role.COUNTER:
        return level + running_h
    if m.role is Role.LEVEL:
        level -= m.burn_per_h * (0.3 + 0.7 * load) * running_h
        return 100.0 if level < m.refill_below else level
    return level
