"""The product catalogue: models of equipment and the metrics they report."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import Conflict, InvalidInput
from crm.audit import CREATE, record_change, snapshot
from crm.models import MetricDefinition, OrgKind, ProductModel
from crm.schemas import MetricDefinitionCreate, ProductModelCreate
from crm.service._access import get_organization, require_staff

PRODUCT_MODEL_FIELDS = ("id", "manufacturer_org_id", "code", "name", "family")
METRIC_FIELDS = (
    "key",
    "label",
    "unit",
    "min_value",
    "max_value",
    "warn_low",
    "warn_high",
    "crit_low",
    "crit_high",
)


def create_product_model(
    session: Session,
    *,
    actor: Principal,
    data: ProductModelCreate,
    metrics: Sequence[MetricDefinitionCreate] = (),
) -> ProductModel:
    """Add a product model with its metric definitions (staff only)."""
    require_staff(actor, to="create product models")
    if get_organization(session, data.manufacturer_org_id).kind != OrgKind.MANUFACTURER:
        raise InvalidInput(
            "manufacturer_org_id must name a manufacturer.", field="manufacturer_org_id"
        )
    keys = [metric.key for metric in metrics]
    if len(set(keys)) != len(keys):
        raise InvalidInput("Each metric key may appear only once.", field="metrics")
    if session.scalar(select(ProductModel.id).where(ProductModel.code == data.code)) is not None:
        raise Conflict(f"Product model {data.code} already exists.", code="product_code_taken")
    model = ProductModel(**data.model_dump())
    session.add(model)
    session.flush()
    definitions = [
        MetricDefinition(product_model_id=model.id, position=position, **metric.model_dump())
        for position, metric in enumerate(metrics)
    ]
    session.add_all(definitions)
    session.flush()
    after = snapshot(model, PRODUCT_MODEL_FIELDS)
    after["metrics"] = [snapshot(definition, METRIC_FIELDS) for definition in definitions]
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity=ProductModel.__tablename__,
        entity_id=model.id,
        before=None,
        after=after,
    )
    return model


def metric_definitions(session: Session, *, product_model_id: int) -> Sequence[MetricDefinition]:
    """The metrics a product model reports, by key."""
    return session.scalars(
        select(MetricDefinition)
        .where(MetricDefinition.product_model_id == product_model_id)
        .order_by(MetricDefinition.key)
    ).all()
