"""Dates, times, numbers and money as the reader reads them: in their time zone and locale
(Babel), the same on pages, charts, PDFs and e-mails.

Who reads: a user's own zone and locale, else their organization's, else the installation's
(`Settings.default_time_zone`, `default_locale`). The web edge loads the reader once per request
with the principal (`load_reader`, through the source the composition root sets from crm);
documents take the reader of their recipient organization. Machine formats (ISO in `<time
datetime>`, CSV, JSON, hashes) stay as they are: these functions are for people.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, format_timedelta, get_datetime_format
from babel.numbers import NumberPattern, format_currency, format_decimal, parse_pattern
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.requests import Request

from core.auth.principal import Principal
from core.config import get_settings

NOTHING = "—"
Number = int | float | Decimal


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads a text: an IANA time zone and a CLDR locale (both known to be valid)."""

    time_zone: str
    locale: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def lang(self) -> str:
        """The locale as a BCP 47 tag, for `<html lang>` and the browser's Intl ("en-GB")."""
        return self.locale.replace("_", "-")


def is_time_zone(name: str) -> bool:
    return name in _time_zones()


def is_locale(name: str) -> bool:
    try:
        Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        return False
    return True


def default_reader() -> Reader:
    """The installation's reader, for anonymous pages and records without their own choice."""
    settings = get_settings()
    return Reader(time_zone=settings.default_time_zone, locale=settings.default_locale)


def resolve_reader(*choices: tuple[str | None, str | None]) -> Reader:
    """The first valid zone and the first valid locale of (zone, locale) pairs, most
    specific first (the user's, then the organization's); the installation's for the rest."""
    fallback = default_reader()
    zones = [zone for zone, _ in choices if zone and is_time_zone(zone)]
    locales = [locale for _, locale in choices if locale and is_locale(locale)]
    return Reader(
        time_zone=zones[0] if zones else fallback.time_zone,
        locale=locales[0] if locales else fallback.locale,
    )


ReaderSource = Callable[[Session, Principal], Reader]
_reader_source: list[ReaderSource] = []


def set_reader_source(source: ReaderSource) -> None:
    """Name the function that reads a principal's zone and locale (crm owns users)."""
    _reader_source[:] = [source]


def load_reader(session: Session, principal: Principal | None) -> Reader:
    """The reader of a principal (one query), or the installation's for nobody."""
    if principal is None or not _reader_source:
        return default_reader()
    return _reader_source[0](session, principal)


def datetime_text(
    moment: datetime | None, reader: Reader, *, seconds: bool = False, zone: bool = True
) -> str:
    """4 Dec 2026, 19:52 CET (en_GB in Berlin); Dec 4, 2026, 1:52 PM EST (en_US in New York)."""
    if moment is None:
        return NOTHING
    local = _local(moment, reader)
    pattern = get_datetime_format("medium", locale=reader.locale)
    return (
        str(pattern)
        .replace("'", "")
        .replace("{1}", format_date(local.date(), "medium", locale=reader.locale))
        .replace("{0}", time_text(moment, reader, seconds=seconds, zone=zone))
    )


def date_text(value: date | datetime | None, reader: Reader) -> str:
    """4 Dec 2026; a moment is first moved into the reader's zone (its local day)."""
    if value is None:
        return NOTHING
    day = _local(value, reader).date() if isinstance(value, datetime) else value
    return format_date(day, "medium", locale=reader.locale)


def time_text(
    moment: datetime | None, reader: Reader, *, seconds: bool = False, zone: bool = True
) -> str:
    """19:52 CET; 1:52 PM EST; with the zone's abbreviation unless told otherwise."""
    if moment is None:
        return NOTHING
    local = _local(moment, reader)
    text = format_time(local, "medium" if seconds else "short", locale=reader.locale)
    if zone:
        text += " " + format_time(local, "z", locale=reader.locale)
    return text


def relative_text(moment: datetime | None, reader: Reader, *, now: datetime | None = None) -> str:
    """5 min ago, in 2 hr, 3 days ago (rounded to the largest unit)."""
    if moment is None:
        return NOTHING
    delta = _aware(moment) - (now or datetime.now(UTC))
    return format_timedelta(
        delta, add_direction=True, format="short", threshold=1, locale=reader.locale
    )


def number_text(value: Number | None, reader: Reader, *, places: int | None = None) -> str:
    """1,234.5 (en) or 1.234,5 (de); `places` fixes the decimals (1,234.50)."""
    if value is None:
        return NOTHING
    if places is None:
        return format_decimal(value, locale=reader.locale)
    return str(_fixed(reader.locale, places).apply(value, reader.locale))


def percent_text(points: Number | None, reader: Reader, *, places: int = 0) -> str:
    """A share given in percent points: 87.5 reads 88% (en) or 88 % (de)."""
    if points is None:
        return NOTHING
    share = Decimal(str(points)) / 100
    return str(_fixed(reader.locale, places, percent=True).apply(share, reader.locale))


def money_text(value: Number | None, currency: str, reader: Reader) -> str:
    """€1,234.50 (en_GB), $1,234.50 (en_US with USD), 1.234,50 € (de_DE)."""
    if value is None:
        return NOTHING
    return format_currency(value, currency, locale=reader.locale)


def ago_html(moment: datetime | None, reader: Reader, *, now: datetime | None = None) -> Markup:
    """A relative moment as `<time>`: ISO for machines, the full moment on hover."""
    if moment is None:
        return Markup('<span class="muted">never</span>')
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        _aware(moment).isoformat(),
        datetime_text(moment, reader),
        escape(relative_text(moment, reader, now=now)),
    )


def _aware(moment: datetime) -> datetime:
    # the database speaks UTC; a moment without a zone is read as UTC
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _local(moment: datetime, reader: Reader) -> datetime:
    return _aware(moment).astimezone(reader.zone)


@lru_cache(maxsize=64)
def _fixed(locale: str, places: int, *, percent: bool = False) -> NumberPattern:
    # the locale's own pattern (grouping, symbols, where % goes) with the decimals fixed
    parsed = Locale.parse(locale)
    formats = parsed.percent_formats if percent else parsed.decimal_formats
    pattern = copy(parse_pattern(formats[None]))
    pattern.frac_prec = (places, places)
    return pattern


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def reader_of(request: Request) -> Reader:
    """The reader of a request, loaded with its principal (core.web.deps), else the default."""
    reader = getattr(request.state, "reader", None)
    return reader if isinstance(reader, Reader) else default_reader()


def install_template_formats(env: Environment) -> None:
    """The filters and globals templates format with, each reading `reader` from the page's
    context: `|datetime`, `|date`, `|time`, `|relative`, `|number`, `|percent`, `money(value,
    currency)` and `ago(moment)` (a `<time>` saying "5 min ago")."""

    def reader_in(context: Context) -> Reader:
        reader = context.get("reader")
        return reader if isinstance(reader, Reader) else default_reader()

    @pass_context
    def datetime_filter(context: Context, moment: datetime | None, seconds: bool = False) -> str:
        return datetime_text(moment, reader_in(context), seconds=seconds)

    @pass_context
    def date_filter(context: Context, value: date | datetime | None) -> str:
        return date_text(value, reader_in(context))

    @pass_context
    def time_filter(context: Context, moment: datetime | None, seconds: bool = False) -> str:
        return time_text(moment, reader_in(context), seconds=seconds)

    @pass_context
    def relative_filter(context: Context, moment: datetime | None) -> str:
        return relative_text(moment, reader_in(context))

    @pass_context
    def number_filter(context: Context, value: Number | None, places: int | None = None) -> str:
        return number_text(value, reader_in(context), places=places)

    @pass_context
    def percent_filter(context: Context, points: Number | None, places: int = 0) -> str:
        return percent_text(points, reader_in(context), places=places)

    @pass_context
    def money(context: Context, value: Number | None, currency: str) -> str:
        return money_text(value, currency, reader_in(context))

    @pass_context
    def ago(context: Context, moment: datetime | None) -> Markup:
        return ago_html(moment, reader_in(context))

    env.filters.update(
        datetime=datetime_filter,
        date=date_filter,
        time=time_filter,
        relative=relative_filter,
        number=number_filter,
        percent=percent_filter,
    )
    env.globals.update(money=money, ago=ago)


LOCALES = (
    "en_GB",
    "en_US",
    "en_IE",
    "de_DE",
    "de_AT",
    "de_CH",
    "fr_FR",
    "it_IT",
    "es_ES",
    "nl_NL",
    "pl_PL",
    "cs_CZ",
    "sv_SE",
)
"""The locales a person may pick (their formats; the words stay English)."""

_ZONE_REGIONS = (
    "Europe",
    "America",
    "Asia",
    "Africa",
    "Australia",
    "Pacific",
    "Atlantic",
    "Indian",
)


def locale_name(code: str) -> str:
    """English (United Kingdom)."""
    return Locale.parse(code).get_display_name("en") or code


def locale_choices(example: datetime) -> list[tuple[str, str]]:
    """(code, "English (United Kingdom): 4 Dec 2026, 18:52 · €1,234.50") for each locale."""
    choices = []
    for code in LOCALES:
        sample = Reader(time_zone="UTC", locale=code)
        name = locale_name(code)
        shown = datetime_text(example, sample, zone=False)
        choices.append((code, f"{name}: {shown} · {money_text(1234.5, 'EUR', sample)}"))
    return choices


def time_zone_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The IANA zones by region ("Europe": [("Europe/Berlin", "Berlin"), ...]), UTC first."""
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in _ZONE_REGIONS}
    for name in sorted(_time_zones()):
        region, _, place = name.partition("/")
        if region in groups and place:
            groups[region].append((name, place.replace("_", " ").replace("/", " / ")))
    return [("Universal", [("UTC", "UTC")])] + [(r, zones) for r, zones in groups.items() if zones]
