"""The simulator's settings: defaults, overridden by a TOML file, overridden by flags.

See `simulators/demo.toml` for every key with its meaning.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from simulators.faults import FaultKind, FaultPlan
from simulators.physics import Environment


class SimulatorConfigError(ValueError):
    """The configuration file or a flag is wrong; the message says which key and why."""


@dataclass(frozen=True)
class FleetSettings:
    devices: int = 0  # 0: every device in the devices file
    interval_s: float = 5.0  # real seconds between two readings of one device
    buffer_max: int = 5000  # readings a device keeps while offline (oldest go first)


@dataclass(frozen=True)
class EngineerSettings:
    enabled: bool = True
    logins: tuple[str, ...] = ()
    password: str = ""
    speed_kmh: float = 60.0
    on_site_min: tuple[float, float] = (30.0, 90.0)  # simulated minutes, uniform
    poll_s: float = 5.0  # real seconds between two looks at the offers
    report_every_s: float = 2.0  # real seconds between two location reports while driving
    start: tuple[float, float] = (48.137, 11.575)  # engineers begin around this point
    start_spread_km: float = 0.0  # each within this distance of it (fixed by the seed)


@dataclass(frozen=True)
class PickupSettings:
    enabled: bool = True
    login: str = ""
    password: str = ""
    distributor_org_ids: tuple[int, ...] = ()  # empty: every distributor the login sees
    every_h: float = 24.0  # simulated hours between two documents of one distributor
    prices: dict[str, str] = field(default_factory=dict)  # product code -> unit net price
    currency: str = "EUR"


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 1
    speed: float = 60.0  # simulated seconds per real second
    duration_s: float = 0.0  # real seconds to run; 0: until stopped
    base_url: str = ""  # the web app; empty: the settings' web host and port
    mqtt_url: str = ""  # the broker; empty: the settings' broker
    devices_file: Path | None = None
    environment: Environment = field(default_factory=Environment)
    fleet: FleetSettings = field(default_factory=FleetSettings)
    faults: FaultPlan = field(default_factory=FaultPlan)
    engineers: EngineerSettings = field(default_factory=EngineerSettings)
    pickups: PickupSettings = field(default_factory=PickupSettings)


_SECTIONS: dict[str, type] = {
    "environment": Environment,
    "fleet": FleetSettings,
    "faults": FaultPlan,
    "engineers": EngineerSettings,
    "pickups": PickupSettings,
}


def load_config(path: Path | None) -> SimulatorConfig:
    """Defaults, or the TOML file at `path` on top of them; unknown keys are refused."""
    config = SimulatorConfig()
    if path is None:
        return config
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SimulatorConfigError(f"no configuration file at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SimulatorConfigError(f"{path} is not valid TOML: {exc}") from None
    top: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise SimulatorConfigError(f"[{key}] must be a table")
            top[key] = _section(key, getattr(config, key), value)
        else:
            top[key] = value
    _refuse_unknown("top level", top, SimulatorConfig)
    if "devices_file" in top:
        top["devices_file"] = (path.parent / str(top["devices_file"])).resolve()
    return _checked(replace(config, **top))


def with_flags(config: SimulatorConfig, **flags: Any) -> SimulatorConfig:
    """Apply command-line values that were given (None means not given)."""
    given = {key: value for key, value in flags.items() if value is not None}
    out = replace(config, **{k: v for k, v in given.items() if k not in {"devices", "faults"}})
    if "devices" in given:
        out = replace(out, fleet=replace(out.fleet, devices=given["devices"]))
    if "faults" in given:
        out = replace(out, faults=replace(out.faults, count=given["faults"]))
    return _checked(out)


def _section(name: str, current: Any, values: dict[str, Any]) -> Any:
    _refuse_unknown(f"[{name}]", values, type(current))
    converted = dict(values)
    for key, value in values.items():
        if isinstance(value, list):
            converted[key] = tuple(value)
    if name == "faults" and "kinds" in converted:
        try:
            converted["kinds"] = tuple(FaultKind(kind) for kind in converted["kinds"])
        except ValueError:
            known = ", ".join(kind.value for kind in FaultKind)
            raise SimulatorConfigError(f"[faults] kinds: each must be one of {known}") from None
    if name == "pickups" and "distributor_org_ids" in converted:
        converted["distributor_org_ids"] = tuple(int(i) for i in converted["distributor_org_ids"])
    return replace(current, **converted)


def _refuse_unknown(where: str, values: dict[str, Any], cls: type) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SimulatorConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


def _checked(config: SimulatorConfig) -> SimulatorConfig:
    if config.speed <= 0:
        raise SimulatorConfigError("speed must be above 0 (1 = real time, 60 = a minute a second)")
    if config.fleet.devices < 0 or config.faults.count < 0:
        raise SimulatorConfigError("devices and faults must be 0 or more")
    if config.fleet.interval_s <= 0:
        raise SimulatorConfigError("[fleet] interval_s must be above 0")
    low, high = config.engineers.on_site_min
    if not 0 < low <= high:
        raise SimulatorConfigError(
            "[engineers] on_site_min must be [low, high] with 0 < low <= high"
        )
    return config
