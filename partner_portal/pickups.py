"""Pickup lines from a CSV upload or an ERP's JSON: all lines are stored, or none."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import InvalidInput
from crm.audit import CREATE, record_change
from crm.models import ProductModel
from partner_portal.access import get_distributor, require_staff_or_own_distributor
from partner_portal.models import PickupLine
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
MAX_LINES = 100_000


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one row; `row` counts the CSV header as row 1 (as a spreadsheet)."""

    row: int
    message: str
    # a duplicate document line (already recorded, or twice in the input): 409 over the API
    duplicate: bool = False


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
        return ImportResult(0, (RowError(1, f"missing columns: {', '.join(missing)}"),))
    rows: list[tuple[int, PickupIn]] = []
    errors: list[RowError] = []
    for raw in reader:
        # the physical line, as a spreadsheet numbers it (blank lines are skipped, not counted)
        row_number = reader.line_num
        if len(rows) + len(errors) >= MAX_LINES:
            return ImportResult(0, (RowError(row_number, f"more than {MAX_LINES} lines"),))
        if None in raw:
            errors.append(RowError(row_number, "more values than columns"))
            continue
        try:
            rows.append((row_number, PickupIn(**{name: raw[name] for name in CSV_COLUMNS})))
        except ValidationError as exc:
            errors.extend(RowError(row_number, message) for message in _messages(exc))
    if not rows and not errors:
        return ImportResult(0, (RowError(2, "the file has no lines"),))
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
    rows = list(enumerate(lines, start=1))
    return _store(session, actor=actor, distributor_org_id=distributor_org_id, rows=rows, errors=[])


def _store(
    session: Session,
    *,
    actor: Principal,
    distributor_org_id: int,
    rows: list[tuple[int, PickupIn]],
    errors: list[RowError],
) -> ImportResult:
    products = _product_ids(session, {line.product_code for _, line in rows})
    existing = _existing_keys(session, distributor_org_id, rows)
    seen: dict[tuple[str, int], int] = {}
    for number, line in rows:
        key = (line.document_number, line.line_no)
        if line.product_code not in products:
            errors.append(RowError(number, f"unknown product code {line.product_code!r}"))
        if key in existing:
            errors.append(
                RowError(
                    number, f"document {key[0]} line {key[1]} is already recorded", duplicate=True
                )
            )
        elif key in seen:
            errors.append(
                RowError(
                    number,
                    f"document {key[0]} line {key[1]} repeats row {seen[key]}",
                    duplicate=True,
                )
            )
        seen.setdefault(key, number)
    if errors:
        return ImportResult(0, tuple(sorted(errors, key=lambda error: error.row)))
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
            for _, line in rows
        ],
    )
    record_change(
        session,
        actor=actor,
        action=CREATE,
        entity="pickup_lines",
        entity_id=distributor_org_id,
        before=None,
        after={"lines": len(rows), "documents": len({line.document_number for _, line in rows})},
    )
    return ImportResult(len(rows))


def _product_ids(session: Session, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    found = session.execute(
        select(ProductModel.code, ProductModel.id).where(ProductModel.code.in_(codes))
    )
    return dict(found.all())


def _existing_keys(
    session: Session, distributor_org_id: int, rows: list[tuple[int, PickupIn]]
) -> set[tuple[str, int]]:
    keys = {(line.document_number, line.line_no) for _, line in rows}
    if not keys:
        return set()
    found = session.execute(
        select(PickupLine.document_number, PickupLine.line_no).where(
            PickupLine.distributor_org_id == distributor_org_id,
            tuple_(PickupLine.document_number, PickupLine.line_no).in_(keys),
        )
    )
    return {(document, line_no) for document, line_no in found}


def _messages(exc: ValidationError) -> list[str]:
    messages = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        messages.append(f"{field}: {error['msg']}")
    return messages
