"""The local EVM chain: anvil from the pinned npm package, state persisted under var/chain."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from core.config import PROJECT_ROOT, Settings
from fieldcrm.services.base import (
    ServiceError,
    ServiceStatus,
    port_open,
    process_alive,
    wait_for_port,
)

_CHAIN_ID = 31337


def binary() -> Path:
    path = PROJECT_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if not path.exists():
        raise ServiceError("anvil is not installed (node_modules/@foundry-rs): run `make setup`")
    return path


def _dir(settings: Settings) -> Path:
    path = settings.var_dir / "chain"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start(settings: Settings) -> None:
    """Start anvil in the background, reloading its saved state; no-op with an external RPC."""
    if not settings.uses_local_chain or status(settings).running:
        return
    if port_open(settings.chain_port):
        raise ServiceError(
            f"FIELDCRM_CHAIN_PORT: port {settings.chain_port} is taken by another "
            "program; stop it or choose another port"
        )
    directory = _dir(settings)
    log = directory / "anvil.log"
    # --state loads the saved chain and dumps it on SIGTERM; --state-interval bounds
    # what a crash can lose.
    cmd = [
        str(binary()),
        "--host",
        "127.0.0.1",
        "--port",
        str(settings.chain_port),
        "--chain-id",
        str(_CHAIN_ID),
        "--state",
        str(directory / "state.json"),
        "--state-interval",
        "5",
        "--silent",
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    (directory / "anvil.pid").write_text(str(proc.pid))
    wait_for_port(settings.chain_port, timeout=20, what="anvil", log=log)


def stop(settings: Settings) -> None:
    pid = _pid(settings)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process_alive(pid):
        time.sleep(0.05)
    (_dir(settings) / "anvil.pid").unlink(missing_ok=True)


def status(settings: Settings) -> ServiceStatus:
    if not settings.uses_local_chain:
        return ServiceStatus("anvil", True, "external (FIELDCRM_LEDGER_RPC_URL)")
    pid = _pid(settings)
    running = pid is not None and process_alive(pid) and port_open(settings.chain_port)
    return ServiceStatus("anvil", running, f"127.0.0.1:{settings.chain_port} ({_dir(settings)})")


def _pid(settings: Settings) -> int | None:
    try:
        return int((_dir(settings) / "anvil.pid").read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
