"""Pickup lines from a CSV upload or an ERP's JSON: all lines are stored, or none."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import InvalidInput
from crm.audit import CREATE, record_change
from crm.models import ProductModel
from partner_portal.access import get_distributor, require_staff_or_own_distributor
from partner_portal.models import PickupLine, RebateProgram, TierRule
from partner_portal.pickup_rows import CSV_COLUMNS, as_pickup, read_row, template_csv
from partner_portal.schemas import PickupIn

MAX_LINES = 100_000


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one row; `row` counts the CSV header as row 1 (as a spreadsheet)."""

    row: int
    message: str
    # a duplicate document line (already recorded, or twice in the input): 409 over the API
    duplicate: bool = False
    column: str | None = None

    @property
    def text(self) -> str:
        """ "Row 3, column quantity: enter a number such as 12 or 12.5", as a person reads it."""
        where = f"Row {self.row}, column {self.column}" if self.column else f"Row {self.row}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """How many lines were stored; when any row is wrong, none are and the errors say why."""

    imported: int
    errors: tuple[RowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


def import_pickups_csv(
    session: Session, *, actor: Principal, distributor_org_id: int, data: bytes
) -> ImportResult:
    """Import a CSV of pickup lines (header row first, columns as CSV_COLUMNS)."""
    require_staff_or_own_distributor(actor, distributor_org_id)
    get_distributor(session, distributor_org_id)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The file is not UTF-8 text.", code="pickups_not_utf8") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in CSV_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        message = (
            f"the first row must name the columns {','.join(CSV_COLUMNS)}; "
            f"missing: {', '.join(missing)}"
        )
        return ImportResult(0, (RowError(1, message),))
    rows: list[_Row] = []
    errors: list[RowError] = []
    for raw in reader:
        # the physical line, as a spreadsheet numbers it (blank lines are skipped, not counted)
        row_number = reader.line_num
        if len(rows) >= MAX_LINES:
            message = f"a file has at most {MAX_LINES:,} lines; split it"
            return ImportResult(0, (RowError(row_number, message),))
        overflow = None in raw
        if overflow:
            message = (
                f"this row has more values than the {len(CSV_COLUMNS)} columns; "
                "put a value that contains a comma in double quotes"
            )
            errors.append(RowError(row_number, message))
        values, wrong = read_row(raw)
        errors.extend(RowError(row_number, message, column=column) for column, message in wrong)
        rows.append(_Row(row_number, values, complete=not wrong and not overflow))
    if not rows:
        return ImportResult(0, (RowError(2, "the file has no lines below the header"),))
    return _store(
        session, actor=actor, distributor_org_id=distributor_org_id, rows=rows, errors=errors
    )


def add_pickups(
    session: Session, *, actor: Principal, distributor_org_id: int, lines: Sequence[PickupIn]
) -> ImportResult:
    """Add pickup lines sent by an ERP; errors number the lines from 1."""
    require_staff_or_own_distributor(actor, distributor_org_id)
    get_distributor(session, distributor_org_id)
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"At most {MAX_LINES} lines at once.", code="pickups_too_many")
    rows = [_Row(number, line.model_dump()) for number, line in enumerate(lines, start=1)]
    return _store(session, actor=actor, distributor_org_id=distributor_org_id, rows=rows, errors=[])


@dataclass(frozen=True, slots=True)
class _Row:
    """A numbered row and the values read from it; `complete` when every column was read."""

    number: int
    values: dict[str, Any]
    complete: bool = True


def _store(
    session: Session,
    *,
    actor: Principal,
    distributor_org_id: int,
    rows: list[_Row],
    errors: list[RowError],
) -> ImportResult:
    errors = errors + _check(session, distributor_org_id, rows)
    if errors:
        # by row, and within a row in column order (a row-wide error first)
        order = {name: index for index, name in enumerate(CSV_COLUMNS)}
        ranked = sorted(errors, key=lambda e: (e.row, order.get(e.column or "", -1)))
        return ImportResult(0, tuple(ranked))
    products = _product_ids(session, {row.values["product_code"] for row in rows})
    lines = [as_pickup(row.values) for row in rows]
    session.execute(
        insert(PickupLine),
        [
            {
                "distributor_org_id": distributor_org_id,
                "picked_on": line.picked_on,
                "product_model_id": products[line.product_code],
                "quantity": line.quantity,
                "net_value": line.net_value,
                "currency": line.currency,
                "document_number": line.document_number,
                "line_no": line.line_no,
            }
            for line in lines
        ],
    )
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity="pickup_lines",
        entity_id=distributor_org_id,
        before=None,
        after={"lines": len(lines), "documents": len({line.document_number for line in lines})},
    )
    return ImportResult(len(lines))


def _check(session: Session, distributor_org_id: int, rows: list[_Row]) -> list[RowError]:
    """What the database knows is wrong: unknown products, foreign currencies, duplicates."""
    codes = {row.values["product_code"] for row in rows if "product_code" in row.values}
    products = _product_ids(session, codes)
    currencies = settled_currencies(session, distributor_org_id=distributor_org_id)
    keyed = [row for row in rows if "document_number" in row.values and "line_no" in row.values]
    existing = _existing_keys(
        session,
        distributor_org_id,
        {(row.values["document_number"], row.values["line_no"]) for row in keyed},
    )
    errors = []
    suggestion = None
    for row in rows:
        code = row.values.get("product_code")
        if code is not None and code not in products:
            if suggestion is None:
                suggestion = _suggested_codes(session, distributor_org_id, limit=3)
            examples = f"; use one of our product codes, such as {', '.join(suggestion)}"
            message = f"there is no product {code}" + (examples if suggestion else "")
            errors.append(RowError(row.number, message, column="product_code"))
        currency = row.values.get("currency")
        if currency is not None and currencies and currency not in currencies:
            message = f"enter the currency we settle in: {', '.join(sorted(currencies))}"
            errors.append(RowError(row.number, f"{message} (not {currency})", column="currency"))
    seen: dict[tuple[str, int], int] = {}
    for row in keyed:
        key = (row.values["document_number"], row.values["line_no"])
        if key in existing:
            message = f"document {key[0]} line {key[1]} is already recorded"
            errors.append(RowError(row.number, message, duplicate=True, column="document_number"))
        elif key in seen:
            message = f"document {key[0]} line {key[1]} repeats row {seen[key]}"
            errors.append(RowError(row.number, message, duplicate=True, column="document_number"))
        seen.setdefault(key, row.number)
    return errors


def settled_currencies(session: Session, *, distributor_org_id: int) -> set[str]:
    """Currencies this installation settles or prices in, and the distributor already used;
    empty on a fresh installation (then any code is taken)."""
    sources = [
        select(RebateProgram.currency),
        select(TierRule.currency),
        select(ProductModel.list_currency).where(ProductModel.list_currency.is_not(None)),
        select(PickupLine.currency)
        .where(PickupLine.distributor_org_id == distributor_org_id)
        .distinct(),
    ]
    found: set[str] = set()
    for query in sources:
        found.update(str(value).strip() for value in session.scalars(query))
    return found


def _suggested_codes(session: Session, distributor_org_id: int, *, limit: int) -> list[str]:
    """The distributor's most picked products, else the catalogue's first."""
    picked = session.scalars(
        select(ProductModel.code)
        .join(PickupLine, PickupLine.product_model_id == ProductModel.id)
        .where(PickupLine.distributor_org_id == distributor_org_id)
        .group_by(ProductModel.code)
        .order_by(func.count().desc(), ProductModel.code)
        .limit(limit)
    ).all()
    if picked:
        return list(picked)
    return list(session.scalars(select(ProductModel.code).order_by(ProductModel.code).limit(limit)))


def pickups_template(
    session: Session, *, distributor_org_id: int, today: date | None = None
) -> bytes:
    """A CSV template with this installation's products that imports as it is downloaded."""
    codes = _suggested_codes(session, distributor_org_id, limit=2)
    prices = dict(
        session.execute(
            select(ProductModel.code, ProductModel.list_price).where(ProductModel.code.in_(codes))
        ).all()
    )
    used = session.scalars(
        select(PickupLine.currency)
        .where(PickupLine.distributor_org_id == distributor_org_id)
        .group_by(PickupLine.currency)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    currencies = settled_currencies(session, distributor_org_id=distributor_org_id)
    currency = used or (min(currencies) if currencies else "EUR")
    return template_csv(
        codes=[(code, prices.get(code)) for code in codes],
        currency=currency.strip(),
        day=today or date.today(),
        document=_free_document(session, distributor_org_id),
    )


def _free_document(session: Session, distributor_org_id: int) -> str:
    """EXAMPLE-1, or the next number this distributor has not recorded yet."""
    taken = set(
        session.scalars(
            select(PickupLine.document_number).where(
                PickupLine.distributor_org_id == distributor_org_id,
                PickupLine.document_number.like("EXAMPLE-%"),
            )
        )
    )
    number = 1
    while f"EXAMPLE-{number}" in taken:
        number += 1
    return f"EXAMPLE-{number}"


def _product_ids(session: Session, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    found = session.execute(
        select(ProductModel.code, ProductModel.id).where(ProductModel.code.in_(codes))
    )
    return dict(found.all())


def _existing_keys(
    session: Session, distributor_org_id: int, keys: set[tuple[str, int]]
) -> set[tuple[str, int]]:
    if not keys:
        return set()
    found = session.execute(
        select(PickupLine.document_number, PickupLine.line_no).where(
            PickupLine.distributor_org_id == distributor_org_id,
            tuple_(PickupLine.document_number, PickupLine.line_no).in_(keys),
        )
    )
    return {(document, line_no) for document, line_no in found}
