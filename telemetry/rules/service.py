"""Staff edit rules through these functions: validated, audited, flushed, never committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from core.auth.principal import Principal
from core.db import utcnow
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm.audit import CREATE, UPDATE, record_change, snapshot
from crm.models import Asset, MetricDefinition
from telemetry.rules.engine import invalidate_rule_cache
from telemetry.rules.kinds import compile_rule
from telemetry.rules.models import Rule
from telemetry.rules.schemas import RuleCreate, RuleUpdate
from telemetry.stream import MetricSpec

RULE_FIELDS = (
    "product_model_id",
    "asset_id",
    "metric_key",
    "kind",
    "name",
    "severity",
    "enabled",
)


def create_rule(session: Session, *, actor: Principal, data: RuleCreate) -> Rule:
    """Add a rule to a product model, or an override for one asset (staff only)."""
    _require_staff(actor)
    if data.asset_id is not None:
        asset = session.get(Asset, data.asset_id)
        if asset is None or asset.product_model_id != data.product_model_id:
            raise InvalidInput("The asset is not of this product model.", field="asset_id")
    same = select(Rule.id).where(
        Rule.product_model_id == data.product_model_id,
        Rule.metric_key == data.metric_key,
        Rule.kind == data.kind,
        Rule.asset_id == data.asset_id if data.asset_id is not None else Rule.asset_id.is_(None),
    )
    if session.scalar(same) is not None:
        raise Conflict(
            f"A {data.kind} rule on {data.metric_key} exists already; edit it.", code="rule_exists"
        )
    rule = Rule(**data.model_dump(mode="json"))
    _check(session, rule)
    session.add(rule)
    session.flush()
    _audit(session, actor=actor, action=CREATE, rule=rule, before=None)
    return rule


def update_rule(session: Session, *, actor: Principal, rule_id: int, data: RuleUpdate) -> Rule:
    """Change a rule's name, severity, parameters or enabled flag (staff only)."""
    _require_staff(actor)
    rule = get_rule(session, rule_id=rule_id)
    before = _snapshot(rule)
    for name, value in data.model_dump(mode="json", exclude_none=True).items():
        setattr(rule, name, value)
    rule.updated_at = utcnow()
    _check(session, rule)
    session.flush()
    _audit(session, actor=actor, action=UPDATE, rule=rule, before=before)
    return rule


def get_rule(session: Session, *, rule_id: int) -> Rule:
    """The rule with this id, or NotFound."""
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(f"No rule {rule_id}.", entity="rules")
    return rule


def list_rules(
    session: Session, *, product_model_id: int, asset_id: int | None = None
) -> Sequence[Rule]:
    """The model's rules and, with an asset, that asset's overrides too."""
    scope: ColumnElement[bool] = Rule.asset_id.is_(None)
    if asset_id is not None:
        scope = or_(scope, Rule.asset_id == asset_id)
    query = (
        select(Rule)
        .where(Rule.product_model_id == product_model_id, scope)
        .order_by(Rule.metric_key, Rule.kind, Rule.asset_id.nulls_first())
    )
    return session.scalars(query).all()


def _check(session: Session, rule: Rule) -> None:
    """Compile the rule against its metric: bad parameters fail here, not in the ingest."""
    metric = session.scalar(
        select(MetricDefinition).where(
            MetricDefinition.product_model_id == rule.product_model_id,
            MetricDefinition.key == rule.metric_key,
        )
    )
    if metric is None:
        raise InvalidInput(f"The product model has no metric {rule.metric_key}.", field="metric")
    spec = MetricSpec(
        metric.key,
        metric.position,
        metric.unit,
        metric.min_value,
        metric.max_value,
        metric.warn_low,
        metric.warn_high,
        metric.crit_low,
        metric.crit_high,
    )
    compile_rule(
        rule_id=rule.id or 0,
        kind=rule.kind,
        name=rule.name,
        severity=rule.severity,
        params=rule.params,
        spec=spec,
    )


def _snapshot(rule: Rule) -> dict[str, Any]:
    return snapshot(rule, RULE_FIELDS) | {"params": rule.params}


def _audit(
    session: Session, *, actor: Principal, action: str, rule: Rule, before: dict[str, Any] | None
) -> None:
    record_change(
        session,
        actor=actor,
        action=action,
        entity=Rule.__tablename__,
        entity_id=rule.id,
        before=before,
        after=_snapshot(rule),
    )
    # this process sees the change at once; other processes within the cache's TTL
    invalidate_rule_cache(rule.product_model_id)


def _require_staff(actor: Principal) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only staff may edit rules.")
