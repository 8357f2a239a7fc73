"""Number formats the partner pages share: money with its currency, measures."""

from __future__ import annotations

from decimal import Decimal


def money(value: Decimal | None, currency: str) -> str:
    """1,234.50 EUR; a dash for nothing."""
    return "—" if value is None else f"{value:,.2f} {currency}"


def amount(value: Decimal | None) -> str:
    """A measure without trailing zeros: 1,200 or 12.5."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if value == value.to_integral() else f"{value.normalize():,f}"


FORMATS = {"money": money, "amount": amount}
