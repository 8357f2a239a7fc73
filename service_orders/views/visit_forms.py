"""The engineer's forms on a job: a part fitted, and the visit's completion."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, field_validator

from core.web.forms import FormModel, Say
from service_orders.workorders import OUTCOMES


class PartForm(FormModel):
    """A part fitted: the number from the part's label, how many, what it is."""

    part_no: Annotated[str, Field(max_length=64), Say(missing="Enter the part number")]
    quantity: Annotated[
        Decimal,
        Field(max_digits=10, decimal_places=2),
        Say(missing="Enter how many", invalid="Enter the quantity as a number, like 2 or 0.5"),
    ] = Decimal(1)
    description: Annotated[str, Field(max_length=200)] = ""

    @field_validator("quantity", mode="before")
    @classmethod
    def _decimal_comma(cls, value: Any) -> Any:
        """Phones in many locales type a decimal comma: 0,5."""
        return value.replace(",", ".") if isinstance(value, str) else value

    @field_validator("quantity")
    @classmethod
    def _some(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("Enter a quantity above 0")
        return value


class CompletionForm(FormModel):
    """The visit's end: its outcome, who signed and their signature, a closing note."""

    outcome: Annotated[str, Field(max_length=24), Say(missing="Choose the outcome")]
    signed_by: Annotated[
        str, Field(max_length=200), Say(missing="Enter the name of the customer who signs")
    ]
    signature: Annotated[
        str, Field(max_length=400_000), Say(missing="Ask the customer to sign in the box")
    ]
    notes: Annotated[str, Field(max_length=10_000)] = ""

    @field_validator("outcome")
    @classmethod
    def _known_outcome(cls, value: str) -> str:
        if value not in OUTCOMES:
            raise ValueError("Choose one of the outcomes")
        return value
