"""JSON shapes of the telemetry API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DeviceProvision(BaseModel):
    """The asset that gets a new device identity."""

    asset_id: int


class ProvisionedDeviceRead(BaseModel):
    """A new device with its MQTT credentials; the secret is never shown again."""

    device_id: int
    asset_id: int
    username: str = Field(description="MQTT username: the device key")
    secret: str = Field(description="MQTT password, shown only in this response")
    broker_url: str
    topic: str = Field(description="The one topic the device may publish to")


class DeviceStatusRead(_Read):
    """A device identity and whether the broker accepts it."""

    id: int
    key: str
    asset_id: int
    status: str
    created_at: datetime
    revoked_at: datetime | None


class LatestValueRead(_Read):
    """The newest value of one metric; zone is normal, warning, critical or none (no data)."""

    key: str
    label: str
    unit: str
    value: float | None
    ts: datetime | None
    zone: str


class AssetLatestRead(_Read):
    """The newest value of each metric of an asset."""

    asset_id: int
    serial: str
    last_seen: datetime | None
    values: list[LatestValueRead]


class SeriesRead(_Read):
    """A chart series: bucket starts in epoch seconds with average, low and high per bucket."""

    metric: str
    label: str
    unit: str
    start: datetime
    end: datetime
    source: str = Field(description="The rollup read: readings_1m or readings_1h")
    bucket_seconds: int
    t: list[float]
    avg: list[float]
    low: list[float]
    high: list[float]


class AlertRead(_Read):
    """An alert raised by a rule on a device of an asset."""

    id: int
    asset_id: int
    device_id: int
    metric_key: str
    kind: str
    severity: str
    status: str
    message: str
    value: float | None
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    cleared_at: datetime | None
    clear_reason: str | None
    predicted_failure_at: datetime | None


class AlertWorkOrderRead(_Read):
    """The work order raised for an alert."""

    number: str
    status: str


class AlertListRead(_Read):
    """An alert as the alerts list shows it: with its metric's label, asset, site, customer
    and the work order raised for it."""

    id: int
    asset_id: int
    serial: str
    site: str
    customer_id: int
    customer: str
    device_key: str
    metric_key: str
    metric_label: str | None = Field(description="The product model's name of the metric")
    kind: str
    severity: str
    status: str
    message: str
    value: float | None
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    cleared_at: datetime | None
    clear_reason: str | None
    predicted_failure_at: datetime | None
    work_order: AlertWorkOrderRead | None


class AlertPageRead(BaseModel):
    """One page of alerts with the count of all that match."""

    items: list[AlertListRead]
    total: int
    page: int
    per_page: int
    pages: int


class AlertClear(BaseModel):
    """Why an alert is cleared by hand (kept in the audit log)."""

    reason: str = Field(min_length=1, max_length=500)


class DeadLetterRead(_Read):
    """A refused message; the payload is a text preview of its first bytes."""

    id: int
    received_at: datetime
    topic: str
    device_key: str | None
    reason: str
    detail: str
    payload_preview: str
    payload_size: int
    truncated: bool


class DeadLetterCount(BaseModel):
    key: str | None
    count: int


class DeadLettersRead(BaseModel):
    """Newest dead letters under the filters, with counts by reason and by device."""

    items: list[DeadLetterRead]
    by_reason: list[DeadLetterCount]
    by_device: list[DeadLetterCount]
