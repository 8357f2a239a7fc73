"""The simulator's configuration: a TOML file over defaults, flags over the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.cli import configure
from simulators.config import SimulatorConfigError, load_config
from simulators.faults import FaultKind

DEMO = Path(__file__).parents[2] / "simulators" / "demo.toml"


def test_the_demo_file_loads_with_every_section() -> None:
    config = load_config(DEMO)
    assert config.seed == 7
    assert config.speed == 60
    assert config.faults.count == 5
    assert set(config.faults.kinds) == set(FaultKind)
    assert "engineer3@fieldcrm.demo" in config.engineers.logins
    assert config.engineers.on_site_min == (30.0, 90.0)
    assert config.pickups.prices["EX-220"] == "185000.00"


def test_flags_override_the_file() -> None:
    config = configure(
        ["--config", str(DEMO), "--devices", "200", "--faults", "2", "--speed", "120",
         "--seed", "9", "--no-engineers", "--duration", "30"]
    )  # fmt: skip
    assert (config.fleet.devices, config.faults.count, config.speed, config.seed) == (
        200,
        2,
        120,
        9,
    )
    assert config.duration_s == 30
    assert not config.engineers.enabled
    assert config.pickups.enabled


def test_an_unknown_key_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text("[fleet]\ndevice = 3\n")
    with pytest.raises(SimulatorConfigError, match=r"unknown key.*device.*known: buffer_max"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speed = 0", "speed must be above 0"),
        ('[faults]\nkinds = ["meltdown"]', "kinds: each must be one of"),
        ("seed = ", "not valid TOML"),
    ],
)
def test_a_wrong_value_says_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sim.toml"
    path.write_text(text)
    with pytest.raises(SimulatorConfigError, match=message):
        load_config(path)
