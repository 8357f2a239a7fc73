"""Device identities: provision (secret shown once), revoke, list; keep the broker in step."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.broker import (
    ENGINEER_USER_PREFIX,
    local_broker_files,
    mosquitto_hash,
    password_file_owner,
    replace_managed_accounts,
)
from core.config import Settings
from core.db import utcnow
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from crm.audit import CREATE, UPDATE, record_change
from crm.models import Asset
from crm.service import asset_visibility
from telemetry.models import Device, DeviceStatus


@dataclass(frozen=True, slots=True)
class ProvisionedDevice:
    """A new device and its secret: the only time the secret is known in clear."""

    device: Device
    secret: str


def provision_device(
    session: Session, *, actor: Principal, asset_id: int, key: str | None = None
) -> ProvisionedDevice:
    """Give an asset an MQTT identity; its secret is returned once and stored only hashed."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff may provision devices.")
    if key is not None and not is_device_username(key):
        raise InvalidInput(
            f"A device key may not start with {ENGINEER_USER_PREFIX!r} (engineers' accounts).",
            code="device_key_reserved",
        )
    if session.get(Asset, asset_id) is None:
        raise NotFound(f"No asset {asset_id}.", entity="assets")
    active = select(Device.id).where(
        Device.asset_id == asset_id, Device.status == DeviceStatus.ACTIVE
    )
    if session.scalar(active) is not None:
        raise Conflict(
            "This asset already has an active device; revoke it first.", code="device_exists"
        )
    secret = secrets.token_urlsafe(24)
    device = Device(
        key=key or f"dev-{secrets.token_hex(6)}",
        asset_id=asset_id,
        secret_hash=mosquitto_hash(secret),
        status=DeviceStatus.ACTIVE,
    )
    session.add(device)
    session.flush()
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity=Device.__tablename__,
        entity_id=device.id,
        before=None,
        after={"key": device.key, "asset_id": asset_id, "status": device.status},
    )
    return ProvisionedDevice(device, secret)


def revoke_device(session: Session, *, actor: Principal, device_id: int) -> Device:
    """Cut a device off: the broker refuses it once the password file is synced."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff may revoke devices.")
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"No device {device_id}.", entity="devices")
    if device.status == DeviceStatus.REVOKED:
        raise IllegalTransition("The device is already revoked.")
    device.status = DeviceStatus.REVOKED
    device.revoked_at = utcnow()
    session.flush()
    record_change(
        session,
        actor=actor,
        action=UPDATE,
        entity=Device.__tablename__,
        entity_id=device.id,
        before={"status": DeviceStatus.ACTIVE},
        after={"status": DeviceStatus.REVOKED},
    )
    return device


def list_devices(session: Session, *, principal: Principal) -> Sequence[Device]:
    """Devices of the assets the principal may see."""
    return session.scalars(
        select(Device)
        .join(Asset, Asset.id == Device.asset_id)
        .where(asset_visibility(principal))
        .order_by(Device.id)
    ).all()


def broker_accounts(session: Session) -> dict[str, str]:
    """Username -> password hash of every active device."""
    rows = session.execute(
        select(Device.key, Device.secret_hash).where(Device.status == DeviceStatus.ACTIVE)
    )
    return {str(key): str(secret_hash) for key, secret_hash in rows}


def sync_broker(session: Session, *, passwd: Path, pid_file: Path | None) -> bool:
    """Rewrite the broker's device accounts from the database and make it reload."""
    return replace_managed_accounts(
        passwd,
        broker_accounts(session),
        owner=password_file_owner(),
        pid_file=pid_file,
        manages=is_device_username,
    )


def is_device_username(user: str) -> bool:
    """Whether a broker username belongs to the devices' class (not an engineer's phone)."""
    return not user.startswith(ENGINEER_USER_PREFIX)


def sync_local_broker(session: Session, settings: Settings) -> bool:
    """Sync the project's own broker; an external broker manages its accounts itself."""
    if not settings.uses_local_broker:
        return False
    passwd, pid_file = local_broker_files(settings.var_dir)
    return sync_broker(session, passwd=passwd, pid_file=pid_file)
