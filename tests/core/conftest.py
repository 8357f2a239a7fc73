"""Settings for web shell tests that need no database."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Settings, get_settings

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 and warns once at import; the project pins httpx.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    import starlette.testclient  # noqa: F401

TEST_SECRET = "test-secret-key-for-the-web-shell"


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    """Isolated settings: a known secret, plain HTTP, and no var/secrets.env."""
    monkeypatch.setenv("FIELDCRM_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("FIELDCRM_ENV", "test")
    monkeypatch.setenv("FIELDCRM_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("FIELDCRM_HTTPS", "false")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def https(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch the settings to HTTPS deployment."""
    monkeypatch.setenv("FIELDCRM_HTTPS", "true")
    get_settings.cache_clear()
