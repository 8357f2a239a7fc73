"""Chart series over any window, read from the rollups with a bucket width chosen for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import InvalidInput, NotFound
from crm.service import get_asset
from telemetry.models import RollupHour, RollupMinute
from telemetry.queries._scope import asset_device_ids, asset_metrics

MAX_POINTS = 500
MINUTE_ROLLUP_LIMIT = timedelta(days=2)
MAX_WINDOW = timedelta(days=400)
_WIDTHS = tuple(
    timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080)
)


@dataclass(frozen=True, slots=True)
class ChartWindow:
    """A window a person picks for the charts: its name in URLs, its label and its length."""

    name: str
    label: str
    length: timedelta


CHART_WINDOWS = (
    ChartWindow("1h", "1 h", timedelta(hours=1)),
    ChartWindow("6h", "6 h", timedelta(hours=6)),
    ChartWindow("24h", "24 h", timedelta(hours=24)),
    ChartWindow("7d", "7 d", timedelta(days=7)),
    ChartWindow("30d", "30 d", timedelta(days=30)),
    ChartWindow("90d", "90 d", timedelta(days=90)),
)
DEFAULT_CHART_WINDOW = "24h"


@dataclass(frozen=True, slots=True)
class BucketChoice:
    """Which rollup a window reads and the width its buckets are merged into."""

    source: str
    width: timedelta


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """One metric over a window: bucket starts (epoch seconds) with average, low and high."""

    metric: str
    label: str
    unit: str
    start: datetime
    end: datetime
    source: str
    bucket_seconds: int
    t: list[float]
    avg: list[float]
    low: list[float]
    high: list[float]


def choose_buckets(start: datetime, end: datetime) -> BucketChoice:
    """The smallest round width giving at most MAX_POINTS buckets, from the finest rollup."""
    window = end - start
    source, floor = (
        ("readings_1m", timedelta(minutes=1))
        if window <= MINUTE_ROLLUP_LIMIT
        else ("readings_1h", timedelta(hours=1))
    )
    wanted = max(window / MAX_POINTS, floor)
    width = next((w for w in _WIDTHS if w >= wanted), _WIDTHS[-1])
    return BucketChoice(source, width)


def chart_series(
    session: Session,
    *,
    principal: Principal,
    asset_id: int,
    metric_key: str,
    start: datetime,
    end: datetime,
) -> ChartSeries:
    """Average, low and high of one metric of a visible asset, ≤ ~500 points for any window."""
    start, end = _checked_window(start, end)
    asset = get_asset(session, principal=principal, asset_id=asset_id)
    metric = next((m for m in asset_metrics(session, asset=asset) if m.key == metric_key), None)
    if metric is None:
        raise NotFound(f"Asset {asset_id} has no metric {metric_key!r}.", entity="metrics")
    choice = choose_buckets(start, end)
    c: type[RollupMinute] | type[RollupHour] = (
        RollupMinute if choice.source == "readings_1m" else RollupHour
    )
    slot: ColumnElement[datetime] = func.time_bucket(choice.width, c.bucket).label("slot")
    rows = session.execute(
        select(
            slot,
            (func.sum(c.total) / func.sum(c.n)).label("avg"),
            func.min(c.low),
            func.max(c.high),
        )
        .where(
            c.device_id.in_(asset_device_ids(session, asset_id=asset.id)),
            c.position == metric.position,
            c.bucket >= func.time_bucket(choice.width, start),
            c.bucket < end,
        )
        .group_by(slot)
        .order_by(slot)
    ).all()
    return ChartSeries(
        metric=metric.key,
        label=metric.label,
        unit=metric.unit,
        start=start,
        end=end,
        source=choice.source,
        bucket_seconds=int(choice.width.total_seconds()),
        t=[row[0].timestamp() for row in rows],
        avg=[float(row[1]) for row in rows],
        low=[float(row[2]) for row in rows],
        high=[float(row[3]) for row in rows],
    )


def _checked_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _aware(start), _aware(end)
    if end <= start:
        raise InvalidInput("The window must end after it starts.", field="end")
    if end - start > MAX_WINDOW:
        raise InvalidInput("The window may span at most 400 days.", field="start")
    return start, end


def _aware(moment: datetime) -> datetime:
    # A timestamp without a zone is read as UTC, the zone the API speaks.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
