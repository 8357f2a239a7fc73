"""Each injected fault moves the right metric the right way; the choice of faults is seeded."""

from __future__ import annotations

import random

import pytest

from simulators.faults import (
    Fault,
    FaultKind,
    FaultPlan,
    assign_faults,
    effect_at,
    without_dropped,
)
from simulators.physics import (
    COMPRESSOR,
    EXCAVATOR,
    GENERATOR,
    HOUR,
    DeviceType,
    Environment,
    initial_state,
    step,
)

START = 1794787200.0 + 7 * HOUR  # Monday 08:00 in Munich: the shift has begun
ENV = Environment()


def series(kind: DeviceType, key: str, faults: list[Fault], hours: float) -> list[float | None]:
    """A metric every 5 minutes from START, the device's faults applied like the fleet does."""
    rng = random.Random(11)
    state = initial_state(kind, ENV, START, rng)
    out: list[float | None] = []
    for i in range(1, int(hours * 12) + 1):
        t = START + i * 300
        effect = effect_at(kind, faults, t)
        state, readings = step(
            kind, state, t, ENV, rng,
            process_bias=effect.process_bias, sensor_bias=effect.sensor_bias,
        )  # fmt: skip
        out.append(without_dropped(readings, effect).get(key))
    return out


def mean(values: list[float | None]) -> float:
    present = [v for v in values if v is not None]
    return sum(present) / len(present)


def test_bearing_wear_makes_vibration_grow_ever_faster() -> None:
    healthy = series(EXCAVATOR, "vibration", [], 9)
    bearing = Fault(FaultKind.BEARING_WEAR, START, "vibration", rate=0.3)
    faulty = series(EXCAVATOR, "vibration", [bearing], 9)
    first, second, third = (mean(faulty[i * 36 : (i + 1) * 36]) for i in range(3))
    assert second - first < third - second  # the trend accelerates
    assert mean(faulty[-12:]) > mean(healthy[-12:]) + 3
    assert mean(faulty[:6]) == pytest.approx(mean(healthy[:6]), abs=0.3)  # it starts small


@pytest.mark.parametrize("direction", [1, -1])
def test_pressure_drift_moves_the_pressure_reading_in_its_direction(direction: int) -> None:
    drift = Fault(FaultKind.PRESSURE_DRIFT, START, "hydraulic_pressure", direction=direction)
    healthy = series(EXCAVATOR, "hydraulic_pressure", [], 8)
    faulty = series(EXCAVATOR, "hydraulic_pressure", [drift], 8)
    shift = mean(faulty[-12:]) - mean(healthy[-12:])
    assert shift * direction > 40  # 1.5 % of 450 bar an hour, seven hours on
    # only the pressure moves: the drift is in the sensor, not the machine
    assert series(EXCAVATOR, "engine_rpm", [drift], 8) == series(EXCAVATOR, "engine_rpm", [], 8)


def test_overheating_raises_the_temperature_towards_its_critical_limit() -> None:
    fault = Fault(FaultKind.OVERHEATING, START, "coolant_temp", rate=0.02)
    healthy = series(GENERATOR, "coolant_temp", [], 8)
    faulty = series(GENERATOR, "coolant_temp", [fault], 8)
    assert max(v for v in healthy if v is not None) < 95  # no warning without the fault
    assert mean(faulty[-6:]) > 105  # critical for the GN-500 after a working day


def test_sensor_dropout_omits_its_metric_only_while_it_lasts() -> None:
    fault = Fault(FaultKind.SENSOR_DROPOUT, START + HOUR, "discharge_temp", hours=2)
    values = series(COMPRESSOR, "discharge_temp", [fault], 4)
    assert all(v is not None for v in values[:11])
    assert all(v is None for v in values[12:35])
    assert all(v is not None for v in values[36:])
    assert series(COMPRESSOR, "vibration", [fault], 4) == series(COMPRESSOR, "vibration", [], 4)


def test_offline_fault_marks_the_device_offline_for_its_hours() -> None:
    fault = Fault(FaultKind.OFFLINE, START, hours=2)
    assert not effect_at(EXCAVATOR, [fault], START - 1).offline
    assert effect_at(EXCAVATOR, [fault], START + HOUR).offline
    assert not effect_at(EXCAVATOR, [fault], START + 2 * HOUR).offline


def test_faults_are_chosen_by_the_seed_one_of_each_kind_fitting_the_device() -> None:
    fleet = [(f"dev-{i:03d}", kind, kind.metric_keys()) for i in range(40)
             for kind in [(EXCAVATOR, COMPRESSOR, GENERATOR)[i % 3]]]  # fmt: skip
    plan = FaultPlan(count=5)
    first = assign_faults(fleet, plan, start=START, seed=3)
    assert first == assign_faults(list(reversed(fleet)), plan, start=START, seed=3)
    assert first != assign_faults(fleet, plan, start=START, seed=4)
    faults = [fault for device_faults in first.values() for fault in device_faults]
    assert sorted(f.kind for f in faults) == sorted(FaultKind)
    kinds = {key: kind for key, kind, _ in fleet}
    for key, device_faults in first.items():
        for fault in device_faults:
            assert START <= fault.start <= START + plan.start_within_h * HOUR
            if fault.metric is not None:
                assert fault.metric in kinds[key].metric_keys()


def test_a_fault_that_does_not_fit_the_device_gives_way_to_one_that_does() -> None:
    # the demo's generator publishes no pressure: it gets the next kind instead
    fleet = [("gen", GENERATOR, ("coolant_temp", "output_kw", "fuel_level"))]
    faults = assign_faults(
        fleet, FaultPlan(count=1, kinds=(FaultKind.PRESSURE_DRIFT, FaultKind.OVERHEATING)),
        start=START, seed=1,
    )  # fmt: skip
    assert [(f.kind, f.metric) for f in faults["gen"]] == [(FaultKind.OVERHEATING, "coolant_temp")]
