"""Bad configuration gives one clear line naming the setting, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core.checks import ServiceUnavailable, require_broker
from core.config import Settings, get_settings


def _fieldcrm(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fieldcrm.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
        check=False,
    )


def test_unreachable_database_url_is_one_line_naming_the_setting() -> None:
    result = _fieldcrm("migrate", FIELDCRM_DATABASE_URL="postgresql://nobody:x@127.0.0.1:9/nowhere")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        "error: FIELDCRM_DATABASE_URL: cannot connect to 127.0.0.1:9/nowhere"
    )


def test_database_url_of_another_kind_is_refused_by_name() -> None:
    result = _fieldcrm("migrate", FIELDCRM_DATABASE_URL="mysql://root@127.0.0.1/x")
    assert result.returncode == 2
    assert "FIELDCRM_DATABASE_URL: expected a postgresql:// URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_broker_down_names_the_setting() -> None:
    settings = Settings(**{**get_settings().model_dump(), "mqtt_url": "mqtt://127.0.0.1:9"})
    with pytest.raises(
        ServiceUnavailable, match=r"^FIELDCRM_MQTT_URL: cannot connect to 127.0.0.1:9"
    ):
        require_broker(settings)


def test_doctor_reports_broker_down_without_traceback() -> None:
    result = _fieldcrm("doctor", FIELDCRM_MQTT_URL="mqtt://127.0.0.1:9")
    assert result.returncode == 1
    assert "FIELDCRM_MQTT_URL" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_production_without_secret_key_refuses_to_start() -> None:
    result = _fieldcrm(
        "migrate",
        FIELDCRM_ENV="production",
        FIELDCRM_SECRET_KEY="",
        FIELDCRM_VAR_DIR="/nonexistent-fieldcrm",
    )
    assert result.returncode == 2
    assert "FIELDCRM_SECRET_KEY" in result.stderr


def test_production_over_plain_http_refuses_to_start_unless_allowed() -> None:
    production = {"FIELDCRM_ENV": "production", "FIELDCRM_SECRET_KEY": "s" * 40}
    refused = _fieldcrm("doctor", **production, FIELDCRM_HTTPS="false")
    assert refused.returncode == 2
    assert "FIELDCRM_HTTPS must be true in production" in refused.stderr
    assert "Traceback" not in refused.stderr
    allowed = Settings(env="production", secret_key="s" * 40, allow_http=True)  # type: ignore[arg-type]
    assert not allowed.https
    assert Settings(env="production", secret_key="s" * 40, https=True).https  # type: ignore[arg-type]


def test_the_demo_accounts_are_never_seeded_in_production() -> None:
    production = {
        "FIELDCRM_ENV": "production",
        "FIELDCRM_SECRET_KEY": "s" * 40,
        "FIELDCRM_HTTPS": "true",
    }
    result = _fieldcrm("seed", "--demo", **production)
    assert result.returncode == 2
    assert "the demo data is never loaded in production" in result.stderr
    assert "Traceback" not in result.stderr
