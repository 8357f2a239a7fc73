"""Evaluate the rules on a batch of stored readings, inside the ingest's transaction.

Per batch: compiled rules come from an in-process cache (30 s TTL, so a batch usually
costs no rule query), the (device, rule) states of the batch's devices are locked and
loaded with one query in (device_id, rule_id) order (two ingest processes never deadlock),
evaluated in Python per device and rule over that device's points, written back with one
upsert, and alerts are opened, escalated and cleared with one statement each.
"""

from __future__ import annotations

import logging
import time
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from telemetry.alerts.writes import (
    RaisedAlert,
    clear_by_condition,
    open_or_escalate,
    refresh_predictions,
)
from telemetry.rules.defaults import install_default_rules
from telemetry.rules.kinds import CompiledRule, Points, RuleState, Verdict, compile_rule
from telemetry.rules.models import SEVERITY_OF_RANK, RuleKind
from telemetry.stream import DeviceProfile, StoredReading

log = logging.getLogger(__name__)

RULE_CACHE_TTL_SECONDS = 30.0

_LOAD_RULES = text(
    "SELECT id, product_model_id, asset_id, metric_key, kind, name, severity, params, enabled"
    " FROM rules WHERE product_model_id = ANY(:model_ids)"
)
_LOCK_STATES = text(
    "SELECT device_id, rule_id, level, last_ts, data FROM rule_states"
    " WHERE device_id = ANY(:device_ids) ORDER BY device_id, rule_id FOR UPDATE"
)
_SAVE_STATES = text(
    "INSERT INTO rule_states (device_id, rule_id, level, last_ts, data, updated_at)"
    " SELECT d, r, l, t, CAST(j AS jsonb), now() FROM unnest(CAST(:device_ids AS int[]),"
    "  CAST(:rule_ids AS int[]), CAST(:levels AS smallint[]), CAST(:last_ts AS timestamptz[]),"
    "  CAST(:data AS text[])) AS s(d, r, l, t, j)"
    " ON CONFLICT (device_id, rule_id) DO UPDATE SET level = EXCLUDED.level,"
    "  last_ts = EXCLUDED.last_ts, data = EXCLUDED.data, updated_at = now()"
)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What a batch did to the alerts."""

    alerts_opened: int = 0
    alerts_escalated: int = 0
    alerts_cleared: int = 0


_RuleKey = tuple[str, str]  # (metric_key, kind): what an asset rule overrides


@dataclass(slots=True)
class _ModelRules:
    loaded_at: float
    model_rules: dict[_RuleKey, CompiledRule]
    # per asset: its overrides; None marks an override that disables the model's rule
    asset_overrides: dict[int, dict[_RuleKey, CompiledRule | None]]
    per_asset: dict[int, tuple[CompiledRule, ...]] = field(default_factory=dict)

    def for_asset(self, asset_id: int) -> tuple[CompiledRule, ...]:
        rules = self.per_asset.get(asset_id)
        if rules is None:
            merged: dict[_RuleKey, CompiledRule | None] = dict(self.model_rules)
            merged.update(self.asset_overrides.get(asset_id, {}))
            rules = tuple(rule for rule in merged.values() if rule is not None)
            self.per_asset[asset_id] = rules
        return rules


_cache: dict[int, _ModelRules] = {}


def invalidate_rule_cache(product_model_id: int | None = None) -> None:
    """Forget compiled rules (all, or one model's) so the next batch reloads them."""
    if product_model_id is None:
        _cache.clear()
    else:
        _cache.pop(product_model_id, None)


def evaluate_batch(
    session: Session,
    readings: Sequence[StoredReading],
    profiles: Mapping[int, DeviceProfile],
) -> BatchOutcome:
    """Run the rules over just-stored readings; open, escalate and clear alerts."""
    by_device: dict[int, list[StoredReading]] = {}
    for reading in readings:
        by_device.setdefault(reading.device_id, []).append(reading)
    rules_of = _rules_of_devices(session, [profiles[d] for d in by_device])
    device_ids = sorted(d for d in by_device if rules_of.get(d))
    if not device_ids:
        return BatchOutcome()
    states = _lock_states(session, device_ids)

    saves: list[tuple[int, int, int, float, dict[str, object]]] = []
    raised: list[RaisedAlert] = []
    cleared: list[tuple[int, int]] = []
    predictions: list[tuple[int, int, datetime | None, float]] = []
    fresh = RuleState()
    for device_id in device_ids:
        device_readings = by_device[device_id]
        times = [r.ts.timestamp() for r in device_readings]
        columns: dict[tuple[int, int], Points] = {}
        asset_id = profiles[device_id].asset_id
        for rule in rules_of[device_id]:
            state = states.get((device_id, rule.rule_id), fresh)
            # readings a concurrent ingest already evaluated past are skipped
            start = 0 if state.last_ts is None else bisect_right(times, state.last_ts)
            points = columns.get((rule.position, start))
            if points is None:
                points = _column(device_readings, times, rule.position, start)
                columns[(rule.position, start)] = points
            if not points:
                continue
            if state is fresh:
                state = RuleState()
            verdict = rule.evaluate(state, points)
            if verdict is None:
                continue
            saves.append((device_id, rule.rule_id, verdict.level, points[-1][0], verdict.data))
            predicted = _datetime(verdict.predicted_at)
            if verdict.peak > state.level:
                raised.append(_raised(device_id, asset_id, rule, verdict, predicted))
            elif verdict.level and rule.kind == RuleKind.TREND:
                predictions.append((device_id, rule.rule_id, predicted, verdict.value))
            if verdict.level == 0 and (state.level or verdict.peak):
                cleared.append((device_id, rule.rule_id))

    _save_states(session, saves)
    opened, escalated = open_or_escalate(session, raised)
    refresh_predictions(session, predictions)
    return BatchOutcome(opened, escalated, clear_by_condition(session, cleared))


def _column(readings: list[StoredReading], times: list[float], position: int, start: int) -> Points:
    """(ts, value) of one metric from `start` on, leaving out readings that lack it."""
    points: Points = []
    for i in range(start, len(readings)):
        values = readings[i].values
        if position < len(values):
            value = values[position]
            if value is not None:
                points.append((times[i], value))
    return points


def _raised(
    device_id: int, asset_id: int, rule: CompiledRule, verdict: Verdict, predicted: datetime | None
) -> RaisedAlert:
    severity = SEVERITY_OF_RANK[verdict.peak]
    if predicted is not None:
        message = f"{rule.name}: {rule.metric_key} predicted to cross its limit at {predicted:%c}"
    else:
        message = f"{rule.name}: {rule.metric_key} = {verdict.value:g}"
    return RaisedAlert(
        device_id,
        asset_id,
        rule.rule_id,
        rule.metric_key,
        rule.kind,
        severity,
        verdict.value,
        message,
        predicted,
    )


def _datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _lock_states(session: Session, device_ids: list[int]) -> dict[tuple[int, int], RuleState]:
    rows = session.execute(_LOCK_STATES, {"device_ids": device_ids})
    return {
        (device_id, rule_id): RuleState(
            level, None if last_ts is None else last_ts.timestamp(), data
        )
        for device_id, rule_id, level, last_ts, data in rows
    }


def _save_states(
    session: Session, saves: list[tuple[int, int, int, float, dict[str, object]]]
) -> None:
    if not saves:
        return
    session.execute(
        _SAVE_STATES,
        {
            "device_ids": [s[0] for s in saves],
            "rule_ids": [s[1] for s in saves],
            "levels": [s[2] for s in saves],
            "last_ts": [datetime.fromtimestamp(s[3], UTC) for s in saves],
            "data": [orjson.dumps(s[4]).decode() for s in saves],
        },
    )


def _rules_of_devices(
    session: Session, profiles: Iterable[DeviceProfile]
) -> dict[int, tuple[CompiledRule, ...]]:
    """Compiled rules per device, from the cache; stale or missing models are (re)loaded."""
    profiles = list(profiles)
    now = time.monotonic()
    stale = {
        p.product_model_id: p
        for p in profiles
        if (cached := _cache.get(p.product_model_id)) is None
        or now - cached.loaded_at > RULE_CACHE_TTL_SECONDS
    }
    if stale:
        _load_models(session, stale, now)
    return {p.device_id: _cache[p.product_model_id].for_asset(p.asset_id) for p in profiles}


def _load_models(session: Session, samples: dict[int, DeviceProfile], now: float) -> None:
    rows = list(session.execute(_LOAD_RULES, {"model_ids": list(samples)}))
    without_rules = sorted(set(samples) - {row.product_model_id for row in rows})
    if without_rules:
        # a model nobody wrote rules for gets the defaults, once, in model order so two
        # ingest processes installing them wait on each other instead of deadlocking
        for model_id in without_rules:
            install_default_rules(session, product_model_id=model_id)
        rows += session.execute(_LOAD_RULES, {"model_ids": without_rules}).all()
    loaded = {model_id: _ModelRules(now, {}, {}) for model_id in samples}
    for row in rows:
        entry = loaded[row.product_model_id]
        spec = samples[row.product_model_id].metrics.get(row.metric_key)
        rule = _compiled(row, spec) if row.enabled and spec is not None else None
        key = (row.metric_key, row.kind)
        if row.asset_id is not None:
            entry.asset_overrides.setdefault(row.asset_id, {})[key] = rule
        elif rule is not None:
            entry.model_rules[key] = rule
    _cache.update(loaded)


def _compiled(row: object, spec: object) -> CompiledRule | None:
    try:
        return compile_rule(
            rule_id=row.id,  # type: ignore[attr-defined]  # a Row of _LOAD_RULES
            kind=row.kind,  # type: ignore[attr-defined]
            name=row.name,  # type: ignore[attr-defined]
            severity=row.severity,  # type: ignore[attr-defined]
            params=row.params,  # type: ignore[attr-defined]
            spec=spec,  # type: ignore[arg-type]
        )
    except InvalidInput as exc:
        # the service validates rules on write; a later change to the metric's limits can
        # still invalidate one, and that must not stop the other rules or the ingest
        log.warning("rule %s skipped: %s", row.id, exc.message)  # type: ignore[attr-defined]
        return None
