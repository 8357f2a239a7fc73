"""Dates, times and money read in the reader's zone and locale (core/formatting.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.formatting import (
    Reader,
    ago_html,
    date_text,
    datetime_text,
    money_text,
    number_text,
    percent_text,
    relative_text,
    resolve_reader,
    time_text,
)

NEW_YORK = Reader(time_zone="America/New_York", locale="en_US")
MUNICH = Reader(time_zone="Europe/Berlin", locale="de_DE")
LONDON = Reader(time_zone="Europe/London", locale="en_GB")
WINTER = datetime(2026, 12, 4, 18, 52, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)


def test_new_york_reads_twelve_hour_times_in_its_own_zone() -> None:
    assert datetime_text(WINTER, NEW_YORK) == "Dec 4, 2026, 1:52\u202fPM EST"
    assert time_text(SUMMER, NEW_YORK) == "6:30\u202fPM EDT"


def test_munich_reads_its_local_day_and_24_hour_clock() -> None:
    assert datetime_text(SUMMER, MUNICH) == "02.07.2026, 00:30 MESZ"
    assert date_text(SUMMER, MUNICH) == "02.07.2026"
    assert date_text(SUMMER, NEW_YORK) == "Jul 1, 2026"


def test_seconds_only_when_asked() -> None:
    assert time_text(WINTER, LONDON, seconds=True) == "18:52:00 GMT"
    assert time_text(WINTER, LONDON, zone=False) == "18:52"


def test_money_in_the_readers_locale() -> None:
    assert money_text(Decimal("1234.50"), "USD", NEW_YORK) == "$1,234.50"
    assert money_text(Decimal("1234.50"), "EUR", MUNICH) == "1.234,50\xa0€"
    assert money_text(Decimal("-79158.73"), "EUR", LONDON) == "-€79,158.73"


def test_numbers_and_percentages_in_the_readers_locale() -> None:
    assert number_text(Decimal("1234.5"), MUNICH) == "1.234,5"
    assert number_text(Decimal("1200"), NEW_YORK) == "1,200"
    assert number_text(3.14159, NEW_YORK, places=2) == "3.14"
    assert percent_text(87.5, NEW_YORK) == "88%"
    assert percent_text(12.5, MUNICH, places=2) == "12,50\xa0%"


def test_relative_moments() -> None:
    assert relative_text(WINTER - timedelta(minutes=5), LONDON, now=WINTER) == "5 min ago"
    assert relative_text(WINTER + timedelta(hours=2), LONDON, now=WINTER) == "in 2 hr"
    assert relative_text(WINTER - timedelta(days=3), MUNICH, now=WINTER) == "vor 3 Tagen"
    html = ago_html(WINTER - timedelta(minutes=5), LONDON, now=WINTER)
    assert 'datetime="2026-12-04T18:47:00+00:00"' in html
    assert 'title="4 Dec 2026, 18:47 GMT"' in html


def test_nothing_reads_as_a_dash() -> None:
    assert datetime_text(None, LONDON) == "—"
    assert money_text(None, "EUR", LONDON) == "—"
    assert str(ago_html(None, LONDON)) == '<span class="muted">never</span>'


def test_a_plain_date_is_not_shifted() -> None:
    assert date_text(date(2026, 1, 31), NEW_YORK) == "Jan 31, 2026"


@pytest.mark.parametrize(
    ("choices", "expected"),
    [
        ((("America/New_York", "en_US"), ("Asia/Tokyo", "ja_JP")), NEW_YORK),
        (((None, None), ("America/New_York", "en_US")), NEW_YORK),
        (((None, "de_DE"), ("Europe/Berlin", "en_US")), MUNICH),
        ((("Mars/Olympus", "xx_YY"),), Reader("Europe/Berlin", "en_GB")),
        ((), Reader("Europe/Berlin", "en_GB")),
    ],
)
def test_user_then_organization_then_installation(
    choices: tuple[tuple[str | None, str | None], ...], expected: Reader
) -> None:
    assert resolve_reader(*choices) == expected
