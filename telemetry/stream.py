"""What flows from ingest to the rules: device profiles and stored readings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Asset, MetricDefinition
from telemetry.models import Device


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric of a product model: where it sits in `values`, its unit and limits."""

    key: str
    position: int
    unit: str
    min_value: float
    max_value: float
    warn_low: float | None
    warn_high: float | None
    crit_low: float | None
    crit_high: float | None
    label: str = ""

    @classmethod
    def of(cls, m: MetricDefinition) -> MetricSpec:
        """The spec of a product model's metric definition."""
        return cls(
            m.key,
            m.position,
            m.unit,
            m.min_value,
            m.max_value,
            m.warn_low,
            m.warn_high,
            m.crit_low,
            m.crit_high,
            m.label,
        )


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """A device as ingest needs it: identity, asset, status and its model's metrics by key."""

    device_id: int
    key: str
    asset_id: int
    product_model_id: int
    active: bool
    metrics: dict[str, MetricSpec]

    @property
    def width(self) -> int:
        return 1 + max((spec.position for spec in self.metrics.values()), default=-1)


@dataclass(frozen=True, slots=True)
class StoredReading:
    """A reading that was just stored (not a duplicate), handed to the rules in-transaction."""

    device_id: int
    asset_id: int
    product_model_id: int
    ts: datetime
    seq: int
    values: tuple[float | None, ...]


def load_profiles(session: Session, *, keys: set[str] | None = None) -> dict[str, DeviceProfile]:
    """Profiles of the given device keys (all devices when None), by key."""
    query = select(Device, Asset.product_model_id).join(Asset, Asset.id == Device.asset_id)
    if keys is not None:
        query = query.where(Device.key.in_(keys))
    rows = session.execute(query).all()
    model_ids = {model_id for _, model_id in rows}
    specs: dict[int, dict[str, MetricSpec]] = {model_id: {} for model_id in model_ids}
    if model_ids:
        for m in session.scalars(
            select(MetricDefinition).where(MetricDefinition.product_model_id.in_(model_ids))
        ):
            specs[m.product_model_id][m.key] = MetricSpec.of(m)
    return {
        device.key: DeviceProfile(
            device.id,
            device.key,
            device.asset_id,
            model_id,
            device.status == "active",
            specs[model_id],
        )
        for device, model_id in rows
    }
