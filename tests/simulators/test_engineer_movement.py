"""Engineers drive in straight lines at a plausible speed: distance, position, arrival."""

from __future__ import annotations

import pytest

from simulators.engineers import Trip, distance_km

MUNICH = (48.137, 11.575)
AUGSBURG = (48.366, 10.898)


def test_distance_is_the_great_circle_distance() -> None:
    assert distance_km((0.0, 0.0), (1.0, 0.0)) == pytest.approx(111.19, abs=0.01)
    assert distance_km((60.0, 0.0), (60.0, 1.0)) == pytest.approx(55.6, abs=0.05)  # cos 60°
    assert distance_km(MUNICH, AUGSBURG) == pytest.approx(56, abs=1)
    assert distance_km(MUNICH, MUNICH) == 0


def test_at_60_kmh_a_trip_takes_a_minute_per_kilometre() -> None:
    trip = Trip(MUNICH, AUGSBURG, departs=1000.0, speed_kmh=60)
    assert trip.duration_s == pytest.approx(distance_km(MUNICH, AUGSBURG) * 60)
    assert trip.arrives == pytest.approx(1000.0 + trip.duration_s)


def test_the_engineer_moves_along_the_straight_line_and_stops_at_the_site() -> None:
    trip = Trip(MUNICH, AUGSBURG, departs=0.0, speed_kmh=60)
    assert trip.position(-100) == MUNICH
    halfway = trip.position(trip.duration_s / 2)
    assert halfway == pytest.approx(((48.137 + 48.366) / 2, (11.575 + 10.898) / 2))
    assert distance_km(MUNICH, halfway) == pytest.approx(distance_km(MUNICH, AUGSBURG) / 2, 0.01)
    assert trip.position(trip.arrives + 3600) == AUGSBURG


def test_a_trip_to_where_one_already_is_arrives_at_once() -> None:
    trip = Trip(MUNICH, MUNICH, departs=50.0, speed_kmh=60)
    assert trip.arrives == 50.0
    assert trip.position(50.0) == MUNICH
