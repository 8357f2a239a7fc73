"""Give every demo asset a device and write the simulator's credentials file (mode 0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.config import Settings
from crm.models import Asset, MetricDefinition
from telemetry.devices import provision_device, revoke_device, sync_local_broker
from telemetry.models import Device, DeviceStatus

# one in this many demo devices drifts towards failure, so alerts open during the demo
_DRIFT_EVERY = 6


def credentials_file(settings: Settings) -> Path:
    return settings.var_dir / "demo-devices.json"


def provision_demo_devices(session: Session, settings: Settings) -> Path:
    """Devices for demo assets (reusing those whose secret the file still has); commits."""
    path = credentials_file(settings)
    known = {d["key"]: d for d in json.loads(path.read_text())} if path.exists() else {}
    entries = []
    for index, asset in enumerate(session.scalars(select(Asset).order_by(Asset.id))):
        device = session.scalar(
            select(Device).where(Device.asset_id == asset.id, Device.status == DeviceStatus.ACTIVE)
        )
        if device is not None and device.key in known:
            entries.append(known[device.key])
            continue
        if device is not None:
            revoke_device(session, actor=SYSTEM, device_id=device.id)
        provisioned = provision_device(
            session, actor=SYSTEM, asset_id=asset.id, key=f"dev-demo-{asset.id:04d}"
        )
        metrics = _metrics(session, asset.product_model_id)
        drifting = metrics[0]["key"] if index % _DRIFT_EVERY == 0 and metrics else None
        entries.append(
            {
                "key": provisioned.device.key,
                "secret": provisioned.secret,
                "metrics": metrics,
                "drifting": drifting,
            }
        )
    session.commit()
    sync_local_broker(session, settings)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(entries, out, indent=1)
    return path


def _metrics(session: Session, product_model_id: int) -> list[dict[str, object]]:
    definitions = session.scalars(
        select(MetricDefinition)
        .where(MetricDefinition.product_model_id == product_model_id)
        .order_by(MetricDefinition.position)
    )
    out = []
    for m in definitions:
        top = m.warn_high if m.warn_high is not None else m.max_value
        normal = m.min_value + (top - m.min_value) * 0.6 if m.min_value >= 0 else top * 0.6
        out.append(
            {
                "key": m.key,
                "normal": round(normal, 3),
                "spread": round((top - normal) * 0.3, 3),
                "limit": m.crit_high,
            }
        )
    return out
