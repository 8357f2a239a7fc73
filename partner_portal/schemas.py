"""Pydantic shapes of the partner portal's input: pickup lines from a CSV or an ERP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _not_zero(value: Decimal) -> Decimal:
    if value == 0:
        raise ValueError("must not be zero (a return is a negative quantity)")
    return value


class PickupIn(BaseModel):
    """One pickup line as an ERP sends it; a return has a negative quantity and value."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    picked_on: date
    product_code: str = Field(min_length=1, max_length=64)
    quantity: Annotated[Decimal, Field(max_digits=18, decimal_places=3), AfterValidator(_not_zero)]
    net_value: Decimal = Field(max_digits=14, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    document_number: str = Field(min_length=1, max_length=64)
    line_no: int = Field(gt=0, lt=2**31)
