"""Form problems in words a person uses, never pydantic's library text."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, ValidationError

from core.web.forms import FormModel, Say, blank_form, message_for


class _Sample(FormModel):
    name: Annotated[str, Field(max_length=2000), Say(missing="Enter your full name")]
    count: Annotated[int, Field(ge=1, le=5)] = 1
    price: Annotated[Decimal, Field(decimal_places=2)] = Decimal(0)
    code: Annotated[str, Field(min_length=3, max_length=8)] = "abc"


def _messages(**values: object) -> dict[str, str]:
    try:
        _Sample.model_validate(values)
    except ValidationError as exc:
        return {str(e["loc"][0]): message_for(_Sample, e) for e in exc.errors()}
    return {}


def test_each_problem_reads_as_an_instruction() -> None:
    assert _messages(count="many", price="12,5,0", code="ab") == {
        "name": "Enter your full name",
        "count": "Enter a whole number, like 12",
        "price": "Enter a number, like 12.50",
        "code": "Enter at least 3 characters",
    }
    assert _messages(name="x" * 2001, count="9") == {
        "name": "Enter at most 2,000 characters",
        "count": "Enter 5 or less",
    }
    assert _messages(count="5") == {"name": "Enter your full name"}


def test_a_blank_form_shows_its_initial_values_and_the_models_limits() -> None:
    form = blank_form(_Sample, count=3, name=None)
    assert (form.value("count"), form.value("name"), form.value("code")) == ("3", "", "")
    assert (form.max_length("name"), form.min_length("code"), form.max_length("count")) == (
        2000,
        3,
        None,
    )
    assert form.status_code == 200
    assert not form.errors
