"""The rule kinds: each compiles a rule row once, then evaluates a device's new points.

Points are (epoch seconds, value) pairs of one metric, oldest first, all newer than the
state's last_ts. A verdict carries the level after the batch, the highest level reached
during it and, for trends, the predicted time of the limit crossing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput
from telemetry.rules.models import SEVERITY_RANK, RuleKind, Severity
from telemetry.stream import MetricSpec

Points = list[tuple[float, float]]


@dataclass(slots=True)
class RuleState:
    """A rule's memory of one device: level raised (0 = quiet), last point seen, kind data."""

    level: int = 0
    last_ts: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    level: int
    peak: int
    value: float
    data: dict[str, Any]
    predicted_at: float | None = None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to run: its id, metric position and an evaluate(state, points) function."""

    rule_id: int
    kind: str
    metric_key: str
    position: int
    name: str
    evaluate: Callable[[RuleState, Points], Verdict | None]


def _num(params: Mapping[str, Any], name: str, default: float | None = None) -> float:
    value = params.get(name, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidInput(f"Rule parameter {name!r} must be a finite number.", field=name)
    return float(value)


def _threshold(spec: MetricSpec, params: Mapping[str, Any], _: int) -> Evaluate:
    def limit(name: str, default: float | None) -> float | None:
        return _num(params, name) if name in params else default

    def major(warn: float | None, crit: float | None) -> float | None:
        # the model only knows warn and crit limits; major sits halfway between them
        return None if warn is None or crit is None else (warn + crit) / 2

    warn_hi, crit_hi = limit("warn_high", spec.warn_high), limit("crit_high", spec.crit_high)
    warn_lo, crit_lo = limit("warn_low", spec.warn_low), limit("crit_low", spec.crit_low)
    major_hi, major_lo = (
        limit("major_high", major(warn_hi, crit_hi)),
        limit("major_low", major(warn_lo, crit_lo)),
    )
    highs = [(b, r) for b, r in ((crit_hi, 3), (major_hi, 2), (warn_hi, 1)) if b is not None]
    lows = [(b, r) for b, r in ((crit_lo, 3), (major_lo, 2), (warn_lo, 1)) if b is not None]
    if not highs and not lows:
        raise InvalidInput(f"Metric {spec.key} has no limits for a threshold rule.")
    hysteresis = limit("hysteresis", 0.02 * (spec.max_value - spec.min_value)) or 0.0
    # the lowest level that raises anything, and the band a raised level must return into
    raise_hi = min((b for b, _ in highs), default=math.inf)
    raise_lo = max((b for b, _ in lows), default=-math.inf)
    clear_hi, clear_lo = raise_hi - hysteresis, raise_lo + hysteresis

    def classify(v: float) -> int:
        for bound, rank in highs:
            if v >= bound:
                return rank
        for bound, rank in lows:
            if v <= bound:
                return rank
        return 0

    def evaluate(state: RuleState, points: Points) -> Verdict | None:
        values = [v for _, v in points]
        if state.level == 0 and raise_lo < min(values) and max(values) < raise_hi:
            return None  # the common case: nothing near a limit, no per-value work
        level = peak = state.level
        for v in values:
            rank = classify(v)
            if rank > level:
                level = rank
            elif level and clear_lo < v < clear_hi:
                level = 0
            peak = max(peak, level)
        return Verdict(level, peak, values[-1], state.data)

    return evaluate


def _condition(
    params: Mapping[str, Any],
) -> tuple[Callable[[float], bool], Callable[[float], bool]]:
    """(breached, back to normal) predicates from an "above" or "below" limit and a clear."""
    if "above" in params:
        above = _num(params, "above")
        clear = _num(params, "clear", above)
        return (lambda v: v > above), (lambda v: v <= clear)
    if "below" in params:
        below = _num(params, "below")
        clear = _num(params, "clear", below)
        return (lambda v: v < below), (lambda v: v >= clear)
    raise InvalidInput("A duration rule needs an 'above' or 'below' limit.", field="params")


def _duration(spec: MetricSpec, params: Mapping[str, Any], severity: int) -> Evaluate:
    breached, normal = _condition(params)
    seconds = _num(params, "seconds")

    def evaluate(state: RuleState, points: Points) -> Verdict:
        since: float | None = state.data.get("since")
        level = peak = state.level
        for t, v in points:
            if breached(v):
                since = t if since is None else since
                if t - since >= seconds:
                    level = peak = severity
            else:
                since = None
                if level and normal(v):
                    level = 0
        return Verdict(level, peak, points[-1][1], {"since": since})

    return evaluate


def _rate_of_change(spec: MetricSpec, params: Mapping[str, Any], severity: int) -> Evaluate:
    limit = _num(params, "per_minute")
    window = _num(params, "window_seconds", 300.0)
    direction = params.get("direction", "both")
    if direction not in ("rising", "falling", "both"):
        raise InvalidInput("direction must be rising, falling or both.", field="direction")
    sign = {"rising": 1.0, "falling": -1.0, "both": 0.0}[direction]
    # a compact window: at most ~10 reference points, so the state stays small
    spacing = window / 10

    def evaluate(state: RuleState, points: Points) -> Verdict:
        refs: list[list[float]] = state.data.get("refs", [])
        level = peak = state.level
        for t, v in points:
            while refs and t - refs[0][0] > window:
                refs.pop(0)
            if refs and t - refs[0][0] >= spacing:
                per_minute = (v - refs[0][1]) / (t - refs[0][0]) * 60.0
                seen = abs(per_minute) if sign == 0.0 else per_minute * sign
                if seen > limit:
                    level = peak = severity
                elif level and seen < limit / 2:
                    level = 0
            if not refs or t - refs[-1][0] >= spacing:
                refs.append([t, v])
        return Verdict(level, peak, points[-1][1], {"refs": refs})

    return evaluate


def _anomaly(spec: MetricSpec, params: Mapping[str, Any], severity: int) -> Evaluate:
    alpha = _num(params, "alpha", 0.02)
    z_limit = _num(params, "z", 4.0)
    z_clear = _num(params, "clear_z", z_limit / 2)
    warmup = int(_num(params, "warmup", 60))
    if not 0 < alpha < 1:
        raise InvalidInput("alpha must be between 0 and 1.", field="alpha")

    def evaluate(state: RuleState, points: Points) -> Verdict:
        data = state.data
        mean, var, n = data.get("mean", 0.0), data.get("var", 0.0), data.get("n", 0)
        level = peak = state.level
        for _, v in points:
            diff = v - mean
            if n >= warmup and var > 0:
                z = abs(diff) / math.sqrt(var)
                if z > z_limit:
                    level = peak = severity
                elif level and z < z_clear:
                    level = 0
            # plain averages while warming up, so the baseline does not start from zero
            a = max(alpha, 1.0 / (n + 1))
            mean += a * diff
            var = (1 - a) * (var + a * diff * diff)
            n += 1
        return Verdict(level, peak, points[-1][1], {"mean": mean, "var": var, "n": n})

    return evaluate


def _trend(spec: MetricSpec, params: Mapping[str, Any], severity: int) -> Evaluate:
    crit_hi = _num(params, "crit_high") if "crit_high" in params else spec.crit_high
    crit_lo = _num(params, "crit_low") if "crit_low" in params else spec.crit_low
    if crit_hi is None and crit_lo is None:
        raise InvalidInput(f"Metric {spec.key} has no critical limit to predict.")
    sample = _num(params, "sample_seconds", 60.0)
    size = int(_num(params, "window", 60))
    min_points = int(_num(params, "min_points", 10))
    horizon = _num(params, "horizon_hours", 168.0) * 3600.0
    min_r2 = _num(params, "min_r2", 0.5)

    def predict(samples: list[list[float]], now: float) -> float | None:
        if len(samples) < min_points:
            return None
        t0 = samples[0][0]
        n = len(samples)
        sx = sy = sxx = sxy = syy = 0.0
        for t, v in samples:
            x = t - t0
            sx += x
            sy += v
            sxx += x * x
            sxy += x * v
            syy += v * v
        dxx, dxy, dyy = sxx - sx * sx / n, sxy - sx * sy / n, syy - sy * sy / n
        if dxx <= 0 or dyy <= 0:
            return None
        slope = dxy / dxx
        if dxy * dxy / (dxx * dyy) < min_r2:
            return None  # noise, not a drift
        intercept = (sy - slope * sx) / n
        limit = crit_hi if slope > 0 else crit_lo
        if limit is None or slope == 0:
            return None
        return max(now, t0 + (limit - intercept) / slope)

    def evaluate(state: RuleState, points: Points) -> Verdict | None:
        samples: list[list[float]] = state.data.get("samples", [])
        added = False
        # sample-and-hold: one point per sample period keeps the state small and the
        # per-reading work to one comparison; the regression smooths the noise
        for t, v in points:
            if not samples or t - samples[-1][0] >= sample:
                samples.append([t, v])
                added = True
        if not added:
            return None
        del samples[:-size]
        now = samples[-1][0]
        predicted = predict(samples, now)
        level = state.level
        if predicted is not None and predicted - now <= horizon:
            level = severity
        elif level and (predicted is None or predicted - now > 1.25 * horizon):
            level = 0
        return Verdict(
            level,
            max(level, state.level),
            samples[-1][1],
            {"samples": samples},
            predicted if level else None,
        )

    return evaluate


Evaluate = Callable[[RuleState, Points], Verdict | None]
_COMPILERS: dict[str, Callable[[MetricSpec, Mapping[str, Any], int], Evaluate]] = {
    RuleKind.THRESHOLD: _threshold,
    RuleKind.DURATION: _duration,
    RuleKind.RATE_OF_CHANGE: _rate_of_change,
    RuleKind.ANOMALY: _anomaly,
    RuleKind.TREND: _trend,
}


def compile_rule(
    *,
    rule_id: int,
    kind: str,
    name: str,
    severity: str,
    params: Mapping[str, Any],
    spec: MetricSpec,
) -> CompiledRule:
    """Check a rule's parameters against its metric and build its evaluator."""
    if kind not in _COMPILERS:
        raise InvalidInput(f"Unknown rule kind {kind!r}.", field="kind")
    rank = SEVERITY_RANK[Severity(severity)]
    evaluate = _COMPILERS[kind](spec, params, rank)
    return CompiledRule(rule_id, kind, spec.key, spec.position, name, evaluate)
