"""What every local service shares: errors, the service user, state directories, ports."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class ServiceError(Exception):
    """A local service could not be set up or started; the message says what to do."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    detail: str


def is_root() -> bool:
    return os.geteuid() == 0


def as_user(user: str | None, cmd: list[str]) -> list[str]:
    """Run cmd as the service's own system user when we are root (servers refuse root)."""
    if user is None or not is_root():
        return cmd
    return ["runuser", "-u", user, "--", *cmd]


def service_user(name: str) -> str | None:
    """The system user to run a server as when root, or None to run as ourselves."""
    if not is_root():
        return None
    try:
        pwd.getpwnam(name)
    except KeyError as exc:
        raise ServiceError(f"system user {name!r} is missing: run `make setup`") from exc
    return name


def state_dir(var_dir: Path, name: str, user: str | None) -> Path:
    """The directory holding a server's state, owned by its user.

    It lives in var/<name> unless the service user cannot reach var/ (a checkout
    inside a private directory); then it lives under /var/lib/fieldcrm and
    var/<name> is a symlink to it, so the layout stays the same for people.
    """
    link = var_dir / name
    if link.is_symlink() or user is None or _reachable_by(user, var_dir):
        target = link.resolve() if link.is_symlink() else link
    else:
        slug = str(var_dir.resolve()).strip("/").replace("/", "_")
        target = Path("/var/lib/fieldcrm") / slug / name
        target.mkdir(parents=True, exist_ok=True)
        Path("/var/lib/fieldcrm").chmod(0o755)
        target.parent.chmod(0o755)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    target.mkdir(parents=True, exist_ok=True)
    if user is not None:
        shutil.chown(target, user, user)
    return target


def _reachable_by(user: str, path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-x", str(path)], capture_output=True, check=False
    )
    return probe.returncode == 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_alive(pid: int) -> bool:
    """Whether a process runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.1)
    hint = f"; see {log}" if log else ""
    raise ServiceError(
        f"{what} did not start listening on 127.0.0.1:{port} within {timeout:.0f}s{hint}"
    )


def run(cmd: list[str], *, what: str, timeout: float = 120) -> str:
    """Run a setup command; on failure raise ServiceError with its last lines of output."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise ServiceError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc.stdout
