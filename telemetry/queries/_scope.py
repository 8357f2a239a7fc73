"""Tenant scoping shared by the telemetry read models."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.models import Asset, MetricDefinition
from telemetry.models import Device


def asset_metrics(session: Session, *, asset: Asset) -> Sequence[MetricDefinition]:
    """The metrics of the asset's product model, in payload order."""
    return session.scalars(
        select(MetricDefinition)
        .where(MetricDefinition.product_model_id == asset.product_model_id)
        .order_by(MetricDefinition.position)
    ).all()


def asset_device_ids(session: Session, *, asset_id: int) -> list[int]:
    """Every device that ever reported for the asset (revoked ones keep their history)."""
    return list(session.scalars(select(Device.id).where(Device.asset_id == asset_id)))
