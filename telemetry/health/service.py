"""Health scores: compute, store (current and history), read for pages; service meters.

score = 100 - sum of penalties; each contributor's penalty = its weight x its badness in
[0, 1]. The contributors are stored with the score so a page can say why it is 62.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import utcnow
from core.errors import NotFound
from crm.models import Asset, MetricDefinition, ProductModel
from crm.service import asset_visibility
from telemetry.health.models import AssetHealth, AssetServiceMeter, HealthScore
from telemetry.health.scoring import AssetFacts, score_asset
from telemetry.health.zones import DEFAULT_SERVICE_INTERVAL_HOURS, FAMILY_SERVICE_INTERVAL_HOURS
from telemetry.stream import MetricSpec

_RECENT_ASSETS = text(
    "SELECT DISTINCT d.asset_id FROM devices d WHERE d.status = 'active' AND ("
    " d.last_seen_at > now() - interval '5 minutes'"
    " OR EXISTS (SELECT 1 FROM readings_1m r WHERE r.device_id = d.id AND r.position = 0"
    "  AND r.bucket > now() - interval '5 minutes')"
    " OR EXISTS (SELECT 1 FROM alerts a WHERE a.device_id = d.id"
    "  AND a.status IN ('open', 'acknowledged')))"
)
_REPORTING_ASSETS = text("SELECT DISTINCT asset_id FROM devices WHERE status = 'active'")
_LATEST_VALUES = text(
    "SELECT DISTINCT ON (r.device_id, r.position) d.asset_id, r.position, r.last"
    " FROM readings_1m r JOIN devices d ON d.id = r.device_id"
    " WHERE d.asset_id = ANY(:asset_ids) AND d.status = 'active'"
    "  AND r.bucket > now() - interval '1 hour'"
    " ORDER BY r.device_id, r.position, r.bucket DESC"
)
_ACTIVE_ALERTS = text(
    "SELECT asset_id, severity, count(*) AS n, min(predicted_failure_at) AS predicted"
    " FROM alerts WHERE asset_id = ANY(:asset_ids) AND status IN ('open', 'acknowledged')"
    " GROUP BY asset_id, severity"
)
_SAVE_CURRENT = text(
    "INSERT INTO asset_health (asset_id, score, contributors, computed_at, predicted_failure_at)"
    " SELECT a, s, CAST(c AS jsonb), now(), p FROM unnest(CAST(:asset_ids AS int[]),"
    "  CAST(:scores AS smallint[]), CAST(:contributors AS text[]),"
    "  CAST(:predicted AS timestamptz[])) AS h(a, s, c, p)"
    " ON CONFLICT (asset_id) DO UPDATE SET score = EXCLUDED.score,"
    "  contributors = EXCLUDED.contributors, computed_at = EXCLUDED.computed_at,"
    "  predicted_failure_at = EXCLUDED.predicted_failure_at"
)
_SAVE_HISTORY = text(
    "INSERT INTO health_scores (asset_id, ts, score, contributors)"
    " SELECT asset_id, computed_at, score, contributors FROM asset_health"
    " WHERE asset_id = ANY(:asset_ids)"
    " ON CONFLICT (asset_id, ts) DO UPDATE SET score = EXCLUDED.score,"
    "  contributors = EXCLUDED.contributors"
)


def refresh_health(session: Session, *, asset_ids: Sequence[int] | None = None) -> int:
    """Recompute and store the health of these assets (default: all reporting); returns count."""
    ids = list(asset_ids) if asset_ids is not None else list(session.scalars(_REPORTING_ASSETS))
    if not ids:
        return 0
    facts = _gather_facts(session, ids)
    scored = [score_asset(f) for f in facts.values()]
    session.execute(
        _SAVE_CURRENT,
        {
            "asset_ids": [f.asset_id for f in facts.values()],
            "scores": [s.score for s in scored],
            "contributors": [orjson.dumps(s.contributors).decode() for s in scored],
            "predicted": [s.predicted_failure_at for s in scored],
        },
    )
    session.execute(_SAVE_HISTORY, {"asset_ids": list(facts)})
    return len(facts)


def refresh_recent_health(session: Session) -> int:
    """Refresh assets that reported in the last minutes or have active alerts."""
    return refresh_health(session, asset_ids=list(session.scalars(_RECENT_ASSETS)))


def record_service(
    session: Session,
    *,
    asset_id: int,
    runtime_hours: Decimal,
    service_interval_hours: Decimal | None = None,
) -> AssetServiceMeter:
    """A service was done at these runtime hours: the service-due clock starts again."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        raise NotFound(f"No asset {asset_id}.", entity="assets")
    meter = session.get(AssetServiceMeter, asset_id)
    if meter is None:
        family = session.scalar(
            select(ProductModel.family).where(ProductModel.id == asset.product_model_id)
        )
        interval = FAMILY_SERVICE_INTERVAL_HOURS.get(family or "", DEFAULT_SERVICE_INTERVAL_HOURS)
        meter = AssetServiceMeter(asset_id=asset_id, service_interval_hours=Decimal(interval))
        session.add(meter)
    meter.last_service_runtime_hours = runtime_hours
    meter.last_service_at = meter.updated_at = utcnow()
    if service_interval_hours is not None:
        meter.service_interval_hours = service_interval_hours
    session.flush()
    return meter


def current_health(
    session: Session, *, principal: Principal, asset_ids: Sequence[int]
) -> Sequence[AssetHealth]:
    """The current scores of those of these assets the principal may see."""
    query = (
        select(AssetHealth)
        .join(Asset, Asset.id == AssetHealth.asset_id)
        .where(AssetHealth.asset_id.in_(asset_ids), asset_visibility(principal))
        .order_by(AssetHealth.asset_id)
    )
    return session.scalars(query).all()


def health_series(
    session: Session, *, principal: Principal, asset_id: int, since: datetime
) -> Sequence[HealthScore]:
    """An asset's scores since a time, oldest first, for a chart."""
    visible = select(Asset.id).where(Asset.id == asset_id, asset_visibility(principal))
    if session.scalar(visible) is None:
        raise NotFound(f"No asset {asset_id}.", entity="assets")
    query = (
        select(HealthScore)
        .where(HealthScore.asset_id == asset_id, HealthScore.ts >= since)
        .order_by(HealthScore.ts)
    )
    return session.scalars(query).all()


def _gather_facts(session: Session, ids: list[int]) -> dict[int, AssetFacts]:
    """Everything the score needs, with one query per kind of fact."""
    rows = session.execute(
        select(
            Asset.id,
            Asset.product_model_id,
            ProductModel.family,
            Asset.runtime_hours,
            AssetServiceMeter.last_service_runtime_hours,
            AssetServiceMeter.service_interval_hours,
        )
        .join(ProductModel, ProductModel.id == Asset.product_model_id)
        .outerjoin(AssetServiceMeter, AssetServiceMeter.asset_id == Asset.id)
        .where(Asset.id.in_(ids))
    ).all()
    facts: dict[int, AssetFacts] = {}
    for asset_id, model_id, family, runtime, last_service, interval in rows:
        default_interval = FAMILY_SERVICE_INTERVAL_HOURS.get(family, DEFAULT_SERVICE_INTERVAL_HOURS)
        facts[asset_id] = AssetFacts(
            asset_id=asset_id,
            product_model_id=model_id,
            family=family,
            hours_since_service=float(runtime - (last_service or 0)),
            service_interval_hours=float(interval or default_interval),
        )
    specs = _metric_specs(session, {f.product_model_id for f in facts.values()})
    for asset_id, position, last in session.execute(_LATEST_VALUES, {"asset_ids": ids}):
        fact = facts[asset_id]
        spec = specs.get((fact.product_model_id, position))
        if spec is not None:
            fact.latest[spec.key] = (last, spec)
    for asset_id, severity, n, predicted in session.execute(_ACTIVE_ALERTS, {"asset_ids": ids}):
        fact = facts[asset_id]
        fact.active_alerts[severity] = n
        if predicted is not None and (
            fact.predicted_failure_at is None or predicted < fact.predicted_failure_at
        ):
            fact.predicted_failure_at = predicted
    return facts


def _metric_specs(session: Session, model_ids: set[int]) -> dict[tuple[int, int], MetricSpec]:
    query = select(MetricDefinition).where(MetricDefinition.product_model_id.in_(model_ids))
    return {(m.product_model_id, m.position): MetricSpec.of(m) for m in session.scalars(query)}
