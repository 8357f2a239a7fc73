"""One CSV row of pickups read column by column, each wrong value told in a distributor's words."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from partner_portal.schemas import PickupIn

CSV_COLUMNS = (
    "picked_on",
    "product_code",
    "quantity",
    "net_value",
    "currency",
    "document_number",
    "line_no",
)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAX_TEXT = 64


class WrongValue(ValueError):
    """A value a person must correct; the message says what to enter."""


def _date(text: str) -> date:
    if not text:
        raise WrongValue("enter the pickup date, such as 2026-01-15")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise WrongValue("enter a date as year-month-day, such as 2026-01-15") from None


def _code(text: str) -> str:
    if not text:
        raise WrongValue("enter the product code")
    if len(text) > _MAX_TEXT:
        raise WrongValue(f"a product code has at most {_MAX_TEXT} characters")
    return text


def _number(text: str, *, places: int, example: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise WrongValue(f"enter a number such as {example}") from None
    if not value.is_finite():
        raise WrongValue(f"enter a number such as {example}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise WrongValue(f"use at most {places} decimal places, such as {_placed(places)}")
    if abs(value) >= Decimal(10) ** 12:
        raise WrongValue("enter a number below 1,000,000,000,000")
    return value


def _placed(places: int) -> str:
    return "12.125" if places == 3 else "2400.50"


def _quantity(text: str) -> Decimal:
    if not text:
        raise WrongValue("enter the quantity, such as 12 (a return is negative)")
    value = _number(text, places=3, example="12 or 12.5")
    if value == 0:
        raise WrongValue("enter a quantity other than 0 (a return is negative, such as -2)")
    return value


def _net_value(text: str) -> Decimal:
    if not text:
        raise WrongValue("enter the net value, such as 2400.00 (a return is negative)")
    return _number(text, places=2, example="2400.00 or -120.50")


def _currency(text: str) -> str:
    code = text.upper()
    if not _CURRENCY.match(code):
        raise WrongValue("enter a three-letter currency code, such as EUR")
    return code


def _document(text: str) -> str:
    if not text:
        raise WrongValue("enter the number of the delivery note or invoice")
    if len(text) > _MAX_TEXT:
        raise WrongValue(f"a document number has at most {_MAX_TEXT} characters")
    return text


def _line_no(text: str) -> int:
    if not text:
        raise WrongValue("enter the line number on the document, such as 1")
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise WrongValue("enter a whole number from 1, such as 1")
    return int(text)


_READERS: dict[str, Callable[[str], Any]] = {
    "picked_on": _date,
    "product_code": _code,
    "quantity": _quantity,
    "net_value": _net_value,
    "currency": _currency,
    "document_number": _document,
    "line_no": _line_no,
}


def read_row(raw: Mapping[str, str | None]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The values that could be read, and (column, message) for each that could not."""
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for column in CSV_COLUMNS:
        try:
            values[column] = _READERS[column]((raw.get(column) or "").strip())
        except WrongValue as exc:
            errors.append((column, str(exc)))
    return values, errors


def as_pickup(values: Mapping[str, Any]) -> PickupIn:
    """A row whose every column was read."""
    return PickupIn(**values)


def template_csv(
    *, codes: list[tuple[str, Decimal | None]], currency: str, day: date, document: str
) -> bytes:
    """The header and one example line per product (at most two), ready to import as is."""
    lines = [",".join(CSV_COLUMNS)]
    for line_no, (code, price) in enumerate(codes[:2], start=1):
        quantity = 2 if line_no == 1 else 1
        value = (price or Decimal(1000)) * quantity
        lines.append(
            f"{day.isoformat()},{code},{quantity},{value:.2f},{currency},{document},{line_no}"
        )
    return ("\n".join(lines) + "\n").encode()
