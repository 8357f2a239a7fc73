"""`fieldcrm simulate`: the fleet, its engineers and the distributors' pickups, from one command.

fieldcrm simulate --devices 200 --faults 5 --speed 60 --seed 7
python -m simulators.cli --config simulators/demo.toml --duration 600
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import httpx

from core.config import get_settings
from simulators.config import SimulatorConfig, SimulatorConfigError, load_config, with_flags
from simulators.engineers import EngineerSimulator
from simulators.fleet import Fleet, SimClock, build_machines, load_identities
from simulators.pickups import PickupSimulator
from simulators.web_session import WebError, WebSession

_RETRY_S = 5.0


class _Actor(Protocol):
    def start(self) -> None: ...
    def tick(self) -> None: ...


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fieldcrm simulate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="TOML file (see simulators/demo.toml)")
    parser.add_argument("--devices", type=int, help="simulate the first N devices of the file")
    parser.add_argument("--faults", type=int, help="how many devices get an injected fault")
    parser.add_argument("--speed", type=float, help="simulated seconds per real second")
    parser.add_argument("--seed", type=int, help="same seed, same fleet behaviour")
    parser.add_argument("--duration", type=float, help="real seconds to run (default: forever)")
    parser.add_argument("--no-engineers", action="store_true", help="no engineer simulation")
    parser.add_argument("--no-pickups", action="store_true", help="no distributor pickups")
    parser.add_argument("--base-url", help="the web app (default: the settings' host and port)")
    parser.add_argument("--mqtt-url", help="the broker (default: the settings' broker)")
    parser.add_argument("--devices-file", type=Path, help="device credentials JSON")
    return parser.parse_args(argv)


def configure(argv: list[str] | None) -> SimulatorConfig:
    """The configuration: defaults, then the --config file, then the other flags."""
    args = _parse(argv)
    config = with_flags(
        load_config(args.config),
        devices=args.devices,
        faults=args.faults,
        speed=args.speed,
        seed=args.seed,
        duration_s=args.duration,
        base_url=args.base_url,
        mqtt_url=args.mqtt_url,
        devices_file=args.devices_file,
    )
    if args.no_engineers:
        config = replace(config, engineers=replace(config.engineers, enabled=False))
    if args.no_pickups:
        config = replace(config, pickups=replace(config.pickups, enabled=False))
    return config


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C or --duration; print a one-line JSON summary at the end."""
    try:
        config = configure(argv)
    except SimulatorConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    path = config.devices_file or settings.var_dir / "demo-devices.json"
    try:
        identities = load_identities(path)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    wanted = config.fleet.devices or len(identities)
    if wanted > len(identities):
        _say(f"asked for {wanted} devices but {path} has only {len(identities)}: simulating those")
    identities = identities[:wanted]
    clock = SimClock(config.speed)
    machines = build_machines(
        identities, seed=config.seed, env=config.environment, start=clock.origin,
        plan=config.faults,
    )  # fmt: skip
    for machine in machines:
        for fault in machine.faults:
            delay_h = (fault.start - clock.origin) / 3600
            _say(f"{machine.identity.key} ({machine.kind.name}): {fault.kind} "
                 f"{fault.metric or ''} in {delay_h:.1f} simulated h")  # fmt: skip
    fleet = Fleet(
        machines, mqtt_url=config.mqtt_url or settings.resolved_mqtt_url(),
        ca_file=settings.mqtt_ca_file, clock=clock,
        env=config.environment, interval_s=config.fleet.interval_s,
        buffer_max=config.fleet.buffer_max, log=_say,
    )  # fmt: skip
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    base_url = config.base_url or f"http://{settings.web_host}:{settings.web_port}"
    actors = _web_actors(config, base_url, clock)
    threads = [
        threading.Thread(target=_keep_running, args=(actor, stop), daemon=True) for actor in actors
    ]
    _say(f"simulating {len(machines)} devices at speed {config.speed:g} (seed {config.seed})")
    fleet.connect()
    for thread in threads:
        thread.start()
    try:
        stats = fleet.run(stop, duration_s=config.duration_s)
    finally:
        stop.set()
        fleet.close()
        for thread in threads:
            thread.join(timeout=10)
    print(json.dumps({"devices": len(machines), **vars(stats)}), flush=True)
    return 0


def _web_actors(config: SimulatorConfig, base_url: str, clock: SimClock) -> list[_Actor]:
    actors: list[_Actor] = []
    engineers = config.engineers
    if engineers.enabled and engineers.logins:
        for index, email in enumerate(engineers.logins):
            web = WebSession(httpx.Client(base_url=base_url, timeout=10), email, engineers.password)
            rng = random.Random(f"{config.seed}:engineer:{index}")  # noqa: S311  # not secret
            actors.append(
                EngineerSimulator(
                    web, engineers, clock=clock.now, speed=config.speed, rng=rng, log=_say
                )
            )
    pickups = config.pickups
    if pickups.enabled and pickups.login:
        web = WebSession(
            httpx.Client(base_url=base_url, timeout=10), pickups.login, pickups.password
        )
        actors.append(PickupSimulator(web, pickups, clock=clock.now, seed=config.seed, log=_say))
    return actors


def _keep_running(actor: _Actor, stop: threading.Event) -> None:
    """Start the actor once the web app answers, then tick; an error pauses it, never ends it."""
    started = False
    while not stop.is_set():
        try:
            if not started:
                actor.start()
                started = True
            actor.tick()
        except (httpx.HTTPError, WebError, RuntimeError) as exc:
            _say(f"{type(actor).__name__}: {exc}; trying again in {_RETRY_S:.0f} s")
            stop.wait(_RETRY_S)
            continue
        stop.wait(0.5)


def _say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
