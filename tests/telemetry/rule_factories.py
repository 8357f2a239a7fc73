"""Builders for rules tests: a reporting asset with a device, rules, and stored readings."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from crm.models import Asset, Organization, ProductModel
from crm.schemas import MetricDefinitionCreate
from telemetry.models import Device
from telemetry.rules.models import Rule
from telemetry.rules.schemas import RuleCreate
from telemetry.rules.service import create_rule
from telemetry.stream import DeviceProfile, StoredReading, load_profiles
from tests.crm.factories import make_asset, make_org, make_product_model

_sequence = itertools.count(1)
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

PRESSURE = MetricDefinitionCreate(
    key="pressure",
    label="Hydraulic pressure",
    unit="bar",
    min_value=0,
    max_value=200,
    warn_low=20,
    warn_high=120,
    crit_low=10,
    crit_high=160,
)
VIBRATION = MetricDefinitionCreate(
    key="vibration_rms", label="Vibration", unit="mm/s", min_value=0, max_value=50
)


@dataclass(frozen=True)
class Reporting:
    """An asset with an active device, as the rules see it."""

    owner: Organization
    model: ProductModel
    asset: Asset
    device: Device
    profile: DeviceProfile

    def profiles(self) -> dict[int, DeviceProfile]:
        return {self.device.id: self.profile}


def make_device(db: Session, *, asset: Asset) -> Device:
    device = Device(key=f"dev-{next(_sequence):04d}-{asset.id}", asset_id=asset.id, secret_hash="-")
    db.add(device)
    db.flush()
    return device


def make_reporting_asset(
    db: Session,
    *,
    family: str = "compressor",
    metrics: Sequence[MetricDefinitionCreate] = (PRESSURE,),
    owner: Organization | None = None,
    model: ProductModel | None = None,
) -> Reporting:
    owner = owner or make_org(db)
    model = model or make_product_model(db, family=family, metrics=metrics)
    asset = make_asset(db, owner=owner, product_model=model)
    device = make_device(db, asset=asset)
    profile = load_profiles(db, keys={device.key})[device.key]
    return Reporting(owner, model, asset, device, profile)


def make_rule(
    db: Session,
    reporting: Reporting,
    *,
    kind: str,
    metric_key: str = "pressure",
    severity: str = "warning",
    params: dict[str, Any] | None = None,
    for_asset: bool = False,
) -> Rule:
    return create_rule(
        db,
        actor=SYSTEM,
        data=RuleCreate(
            product_model_id=reporting.model.id,
            asset_id=reporting.asset.id if for_asset else None,
            metric_key=metric_key,
            kind=kind,  # type: ignore[arg-type]  # pydantic coerces the string
            name=f"{kind} on {metric_key}",
            severity=severity,  # type: ignore[arg-type]
            params=params or {},
        ),
    )


def readings(
    reporting: Reporting,
    values: Iterable[float | None],
    *,
    start: datetime = T0,
    step: float = 1.0,
    metric_key: str = "pressure",
) -> list[StoredReading]:
    """One stored reading per value, `step` seconds apart, carrying only that metric."""
    profile = reporting.profile
    position = profile.metrics[metric_key].position
    out = []
    for i, value in enumerate(values):
        row: list[float | None] = [None] * profile.width
        row[position] = value
        out.append(
            StoredReading(
                profile.device_id,
                profile.asset_id,
                profile.product_model_id,
                start + timedelta(seconds=i * step),
                next(_sequence),
                tuple(row),
            )
        )
    return out
