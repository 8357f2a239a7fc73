"""How bad a value is: ISO 10816 vibration zones and the product model's limits.

Each function returns a badness in [0, 1] (0 = fine, 1 = as bad as it gets) and the words
that explain it, so the health score can say why it is what it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from telemetry.stream import MetricSpec


@dataclass(frozen=True, slots=True)
class VibrationClass:
    """ISO 10816-1 machine class with its zone boundaries in mm/s RMS (A|B, B|C, C|D)."""

    name: str
    a_b: float
    b_c: float
    c_d: float


ISO_10816_CLASSES = {
    "I": VibrationClass("I", 0.71, 1.8, 4.5),  # small machines, up to 15 kW
    "II": VibrationClass("II", 1.12, 2.8, 7.1),  # medium machines, 15-75 kW
    "III": VibrationClass("III", 1.8, 4.5, 11.2),  # large machines on rigid foundations
    "IV": VibrationClass("IV", 2.8, 7.1, 18.0),  # large machines on soft foundations
}

# Product family -> ISO 10816 class. Compressors and chillers are medium machines on
# rigid mounts; excavators and generators are large rigid machines; turbines soft-mounted.
FAMILY_VIBRATION_CLASS = {
    "compressor": "II",
    "chiller": "II",
    "pump": "II",
    "excavator": "III",
    "generator": "III",
    "turbine": "IV",
}
DEFAULT_VIBRATION_CLASS = "II"

# Zone -> badness: A new machine, B fine for unlimited operation, C restricted, D damage.
ZONE_BADNESS = {"A": 0.0, "B": 0.25, "C": 0.6, "D": 1.0}
ZONE_MEANING = {
    "A": "newly commissioned",
    "B": "unrestricted operation",
    "C": "restricted operation",
    "D": "damage likely",
}

# Service interval in runtime hours per family, until a service meter says otherwise.
FAMILY_SERVICE_INTERVAL_HOURS = {
    "compressor": 2000,
    "chiller": 4000,
    "pump": 3000,
    "excavator": 500,
    "generator": 500,
    "turbine": 8000,
}
DEFAULT_SERVICE_INTERVAL_HOURS = 1000


def is_vibration(metric_key: str) -> bool:
    """Vibration metrics (mm/s RMS) are judged by ISO 10816, not by the model's limits."""
    return "vibration" in metric_key


def vibration_zone(value: float, family: str) -> tuple[float, str]:
    """Badness and explanation of a vibration velocity for the family's machine class."""
    cls = ISO_10816_CLASSES[FAMILY_VIBRATION_CLASS.get(family, DEFAULT_VIBRATION_CLASS)]
    zone = "A" if value < cls.a_b else "B" if value < cls.b_c else "C" if value < cls.c_d else "D"
    return ZONE_BADNESS[zone], (
        f"{value:g} mm/s: ISO 10816 class {cls.name} zone {zone} ({ZONE_MEANING[zone]})"
    )


def limit_zone(value: float, spec: MetricSpec) -> tuple[float, str]:
    """Badness against the model's limits: 0 inside warn, 0.4-0.8 up to crit, 1 past crit."""
    for warn, crit, side in (
        (spec.warn_high, spec.crit_high, 1.0),
        (spec.warn_low, spec.crit_low, -1.0),
    ):
        if crit is not None and (value - crit) * side >= 0:
            return 1.0, f"{value:g} {spec.unit}: beyond the critical limit {crit:g}"
        if warn is not None and (value - warn) * side >= 0:
            fraction = 0.0 if crit is None else (value - warn) / (crit - warn)
            return 0.4 + 0.4 * fraction, f"{value:g} {spec.unit}: beyond the warning limit {warn:g}"
    return 0.0, f"{value:g} {spec.unit}: within limits"
