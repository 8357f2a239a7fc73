"""Lists that scale: search, filters, sorting and pagination read from the query string once,
and one page of rows with its counts and links, for every list page of every package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
AnySelect = Select[*tuple[Any, ...]]
"""A SELECT of any columns, as list queries are built up."""

PER_PAGE_CHOICES = (25, 50, 100)
MAX_SEARCH_LENGTH = 200


@dataclass(frozen=True, slots=True)
class ListParams:
    """What the person asked the list for: search words, filters, order and page."""

    search: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str = ""
    descending: bool = False
    page: int = 1
    per_page: int = PER_PAGE_CHOICES[0]

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def query_string(self, **changes: Any) -> str:
        """This list's query string with some parameters changed (a new filter or order goes
        back to page 1)."""
        params = replace(self, **changes) if changes else self
        if changes and "page" not in changes:
            params = replace(params, page=1)
        pairs: dict[str, str] = {}
        if params.search:
            pairs["q"] = params.search
        pairs.update({key: value for key, value in params.filters.items() if value})
        if params.sort:
            pairs["sort"] = ("-" if params.descending else "") + params.sort
        if params.page > 1:
            pairs["page"] = str(params.page)
        if params.per_page != PER_PAGE_CHOICES[0]:
            pairs["per_page"] = str(params.per_page)
        return "?" + urlencode(pairs) if pairs else "?"

    def with_filter(self, name: str, value: str) -> str:
        """The query string with one filter set (or cleared with "")."""
        return self.query_string(filters={**self.filters, name: value})


def list_params(
    query: Mapping[str, str],
    *,
    sorts: Sequence[str],
    default_sort: str,
    filters: Mapping[str, Sequence[str] | None] | None = None,
) -> ListParams:
    """Read the list's parameters from a query string (request.query_params); unknown sorts,
    filter values and pages fall back to the defaults instead of failing (a shared link keeps
    working after a column is renamed).

    `filters` names each filter with its allowed values, or None for free values (an id)."""
    raw_sort = query.get("sort", default_sort)
    descending = raw_sort.startswith("-")
    sort = raw_sort.lstrip("-")
    if sort not in sorts:
        descending = default_sort.startswith("-")
        sort = default_sort.lstrip("-")
    chosen: dict[str, str] = {}
    for name, allowed in (filters or {}).items():
        value = query.get(name, "").strip()[:MAX_SEARCH_LENGTH]
        if value and (allowed is None or value in allowed):
            chosen[name] = value
    per_page = _int(query.get("per_page"), PER_PAGE_CHOICES[0])
    return ListParams(
        search=query.get("q", "").strip()[:MAX_SEARCH_LENGTH],
        filters=chosen,
        sort=sort,
        descending=descending,
        page=max(1, _int(query.get("page"), 1)),
        per_page=per_page if per_page in PER_PAGE_CHOICES else PER_PAGE_CHOICES[0],
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class ListPage(Generic[T]):
    """One page of a list with what the page shows around it: counts and neighbours."""

    rows: Sequence[T]
    total: int
    params: ListParams

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.params.per_page))

    @property
    def first(self) -> int:
        """The 1-based position of the first row shown (0 when there is none)."""
        return self.params.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.params.offset + len(self.rows)

    @property
    def previous_url(self) -> str | None:
        page = min(self.params.page, self.pages) - 1
        return self.params.query_string(page=page) if page >= 1 else None

    @property
    def next_url(self) -> str | None:
        page = self.params.page + 1
        return self.params.query_string(page=page) if page <= self.pages else None

    def sort_url(self, key: str) -> str:
        """Sort by `key`; asking again for the current order reverses it."""
        descending = not self.params.descending if self.params.sort == key else False
        return self.params.query_string(sort=key, descending=descending)

    def sort_state(self, key: str) -> str:
        """aria-sort of a column header."""
        if self.params.sort != key:
            return "none"
        return "descending" if self.params.descending else "ascending"


def fetch_page(session: Session, query: AnySelect, params: ListParams) -> tuple[list[Any], int]:
    """The rows of the requested page and the count of all rows, in two statements."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(query.limit(params.per_page).offset(params.offset)).all()
    return list(rows), int(total or 0)
