"""A throw-away anvil per test session (no --state), so the developer's chain is untouched."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.config import PROJECT_ROOT, Settings, get_settings
from fieldcrm.services.base import free_port
from tests.fieldcrm.conftest import browser  # noqa: F401  # re-exported fixture

ANVIL = PROJECT_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


@dataclass
class ThrowawayChain:
    """A running anvil that tests may stop and start again (fresh, like a lost state)."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(ANVIL), "--host", "127.0.0.1", "--port", str(self.port), "--silent"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"anvil did not start on {self.port}: see {self.log}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=15)
            self.process = None

    def settings(self) -> Settings:
        """The app's settings pointed at this chain as if it were the local one."""
        return get_settings().model_copy(
            update={"chain_port": self.port, "ledger_rpc_url": None, "ledger_private_key": None}
        )


@pytest.fixture(scope="session")
def test_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayChain]:
    if not ANVIL.exists():
        pytest.skip("anvil is not installed (make setup)")
    chain = ThrowawayChain(free_port(), tmp_path_factory.mktemp("anvil") / "anvil.log")
    chain.start()
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture
def resettable_chain(tmp_path: Path) -> Iterator[ThrowawayChain]:
    """A chain of the test's own, which it may restart without state (a lost anvil)."""
    if not ANVIL.exists():
        pytest.skip("anvil is not installed (make setup)")
    chain = ThrowawayChain(free_port(), tmp_path / "anvil.log")
    chain.start()
    try:
        yield chain
    finally:
        chain.stop()
