"""What staff send to write rules; the kind's parameters are checked against the metric."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from telemetry.rules.models import RuleKind, Severity


class RuleCreate(BaseModel):
    product_model_id: int
    asset_id: int | None = None
    metric_key: Annotated[str, Field(min_length=1, max_length=64)]
    kind: RuleKind
    name: Annotated[str, Field(min_length=1, max_length=200)]
    severity: Severity = Severity.WARNING
    params: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class RuleUpdate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    severity: Severity | None = None
    params: dict[str, Any] | None = None
    enabled: bool | None = None
