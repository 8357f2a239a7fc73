"""JSON shapes of the customer API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class HealthHistoryRead(BaseModel):
    """Health scores over a window: bucket starts (epoch seconds) with average and low."""

    model_config = ConfigDict(from_attributes=True)

    start: datetime
    end: datetime
    bucket_seconds: int
    t: list[float]
    avg: list[float]
    low: list[float]
