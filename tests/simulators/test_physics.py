"""Device physics: reproducible with a seed, and believable (inside the product model's limits)."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest

from fieldcrm.seed import _MODELS  # the demo's product models: the limits the ingest enforces
from simulators.physics import (
    COMPRESSOR,
    DEVICE_TYPES,
    EXCAVATOR,
    HOUR,
    DeviceType,
    Environment,
    initial_state,
    step,
)

MONDAY_NOON = 1794787200.0 + 11 * HOUR  # Monday 2026-11-16, 12:00 in Munich
ENV = Environment()
LIMITS = {
    family: {key: (lo, hi, crit) for key, _, _, lo, hi, _, crit in metrics}
    for _, _, family, metrics in _MODELS
}


def run(
    kind: DeviceType, *, seed: int, hours: float, every_s: float = 60.0
) -> list[dict[str, float]]:
    rng = random.Random(seed)
    state = initial_state(kind, ENV, MONDAY_NOON, rng)
    out = []
    for i in range(1, int(hours * HOUR / every_s) + 1):
        state, readings = step(kind, state, MONDAY_NOON + i * every_s, ENV, rng)
        out.append(readings)
    return out


def test_same_seed_gives_the_same_readings_and_another_seed_does_not() -> None:
    assert run(EXCAVATOR, seed=7, hours=6) == run(EXCAVATOR, seed=7, hours=6)
    assert run(EXCAVATOR, seed=7, hours=6) != run(EXCAVATOR, seed=8, hours=6)


@pytest.mark.parametrize("kind", DEVICE_TYPES, ids=lambda kind: kind.name)
def test_a_healthy_week_stays_inside_the_physical_limits_and_below_critical(
    kind: DeviceType,
) -> None:
    limits = LIMITS[kind.family]
    assert set(limits) <= set(kind.metric_keys()), "every metric of the product model is simulated"
    week = run(kind, seed=3, hours=7 * 24, every_s=120)
    for key, (lo, hi, crit) in limits.items():
        values = [readings[key] for readings in week]
        assert lo <= min(values), key
        assert max(values) <= hi, key
        if crit is not None:
            assert max(values) < crit, f"{key} reached its critical limit without a fault"


def test_an_excavator_works_the_day_shift_and_rests_at_night() -> None:
    readings = run(EXCAVATOR, seed=1, hours=24, every_s=600)
    # index i is MONDAY_NOON + (i + 1) * 10 min; 15:00 local is working, 02:00 local is not
    afternoon, night = readings[17], readings[83]
    assert afternoon["engine_rpm"] > 1000
    assert afternoon["hydraulic_pressure"] > 100
    assert night["engine_rpm"] < 100
    assert night["hydraulic_pressure"] < 20
    assert night["oil_temp"] < afternoon["oil_temp"] - 30  # cooled down towards the air


def test_hour_meter_counts_running_hours_and_fuel_is_burnt_then_refilled() -> None:
    week = run(EXCAVATOR, seed=2, hours=7 * 24, every_s=300)
    meter = [r["hour_meter"] for r in week]
    assert meter == sorted(meter)
    assert 45 <= meter[-1] - meter[0] <= 55  # five 10-hour shifts
    fuel = [r["fuel_level"] for r in week]
    assert any(later > earlier + 50 for earlier, later in itertools.pairwise(fuel))


def test_wear_degrades_slowly_and_shows_in_vibration_and_pressure() -> None:
    rng = random.Random(5)
    state = initial_state(COMPRESSOR, ENV, MONDAY_NOON, rng)
    later, _ = step(COMPRESSOR, state, MONDAY_NOON + 8 * HOUR, ENV, rng)
    assert 0 < later.wear - state.wear < 0.001  # a working day is a tiny part of a life

    def mean_after(wear: float, key: str) -> float:
        rng = random.Random(9)
        s = replace(initial_state(COMPRESSOR, ENV, MONDAY_NOON, rng), wear=wear)
        values = []
        for i in range(1, 121):
            s = replace(s, wear=wear)
            s, readings = step(COMPRESSOR, s, MONDAY_NOON + i * 60, ENV, rng)
            values.append(readings[key])
        return sum(values) / len(values)

    assert mean_after(0.9, "vibration") > mean_after(0.0, "vibration") + 0.8
    assert mean_after(0.9, "discharge_pressure") < mean_after(0.0, "discharge_pressure") - 0.3
