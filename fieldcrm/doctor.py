"""What `fieldcrm doctor` checks."""

from __future__ import annotations

import shutil

from sqlalchemy import create_engine, text

from core.checks import Check, ServiceUnavailable, check_database, check_tcp, require_broker
from core.config import PROJECT_ROOT, Settings, secrets_file

_VENDOR_FILES = (
    "htmx.org/dist/htmx.min.js",
    "uplot/dist/uPlot.iife.min.js",
    "leaflet/dist/leaflet.js",
    "signature_pad/dist/signature_pad.umd.min.js",
    "solc/soljson.js",
    "@foundry-rs/anvil-linux-amd64/bin/anvil",
    ".fieldcrm-basemap/basemap.json",
)


def run_checks(settings: Settings) -> list[Check]:
    checks = check_database(settings)
    if checks[0].ok:
        checks.append(_migrations(settings))
    checks.append(_broker(settings))
    checks.append(
        check_tcp(
            "chain (anvil / RPC)",
            settings.resolved_rpc_url(),
            "FIELDCRM_LEDGER_RPC_URL"
            if settings.ledger_rpc_url
            else "the local chain (FIELDCRM_CHAIN_PORT)",
            default_port=8545,
        )
    )
    missing = [
        name for name in _VENDOR_FILES if not (PROJECT_ROOT / "node_modules" / name).exists()
    ]
    checks.append(
        Check(
            "front-end and chain packages",
            not missing,
            "all present" if not missing else f"missing: {', '.join(missing)}",
            "" if not missing else "run `make setup` (npm ci)",
        )
    )
    path = secrets_file(settings.var_dir)
    safe = path.exists() and (path.stat().st_mode & 0o077) == 0
    checks.append(
        Check(
            "secrets file",
            safe or settings.secret_key is not None,
            f"{path} " + ("mode 0600" if safe else "missing or readable by others"),
            "" if safe else "run `make setup`, or `chmod 600` it",
        )
    )
    chromium = shutil.which("chromium")
    checks.append(
        Check(
            "chromium (browser tests)",
            chromium is not None,
            chromium or "not found",
            "" if chromium else "run `make setup` (installs Debian's chromium)",
        )
    )
    return checks


def _migrations(settings: Settings) -> Check:
    from alembic.script import ScriptDirectory

    from fieldcrm.migrate import alembic_config

    url = settings.resolved_database_url()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT to_regclass('alembic_version')")).scalar()
            current = (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if exists
                else None
            )
    finally:
        engine.dispose()
    ok = current == head
    return Check(
        "migrations",
        ok,
        f"at {current or 'nothing'} (head {head})",
        "" if ok else "run `fieldcrm migrate`",
    )


def _broker(settings: Settings) -> Check:
    try:
        require_broker(settings)
    except ServiceUnavailable as exc:
        return Check("mqtt broker", False, str(exc), "start it or fix FIELDCRM_MQTT_URL")
    return Check("mqtt broker", True, f"authenticated at {settings.resolved_mqtt_url()}")
