"""Pickup imports: all lines or none, row-level errors, duplicates refused, own data only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.auth.roles import Role
from core.errors import NotFound, PermissionDenied
from crm.models import OrgKind, ProductModel
from partner_portal.models import PickupLine
from partner_portal.pickups import RowError, add_pickups, import_pickups_csv
from partner_portal.schemas import PickupIn
from tests.crm.factories import make_org, make_product_model, make_user, principal_of
from tests.partner_portal.factories import make_distributor

HEADER = "picked_on,product_code,quantity,net_value,currency,document_number,line_no\n"


def _csv(product: ProductModel, *rows: str) -> bytes:
    return (HEADER + "".join(row.format(code=product.code) + "\n" for row in rows)).encode()


def _count(db: Session, distributor_id: int) -> int:
    return (
        db.scalar(select(func.count()).where(PickupLine.distributor_org_id == distributor_id)) or 0
    )


def test_a_distributor_user_imports_own_pickups_including_a_return(db: Session) -> None:
    distributor = make_distributor(db)
    product = make_product_model(db)
    user = principal_of(make_user(db, org=distributor))
    data = _csv(
        product,
        "2026-01-15,{code},10,15000.00,EUR,INV-1,1",
        "2026-02-01,{code},-2,-3000.00,EUR,CN-7,1",
    )
    result = import_pickups_csv(db, actor=user, distributor_org_id=distributor.id, data=data)
    assert result.ok
    assert result.imported == 2
    values = db.scalars(
        select(PickupLine.net_value).where(PickupLine.distributor_org_id == distributor.id)
    ).all()
    assert sorted(values) == [Decimal("-3000.00"), Decimal("15000.00")]


def test_one_bad_row_imports_nothing_and_every_error_names_its_row(db: Session) -> None:
    distributor = make_distributor(db)
    product = make_product_model(db)
    data = _csv(
        product,
        "2026-01-15,{code},10,15000.00,EUR,INV-1,1",
        "",
        "2026-13-01,{code},10,15000.00,EUR,INV-1,2",
        "2026-01-15,NO-SUCH,abc,1.00,eur,INV-1,3",
    )
    result = import_pickups_csv(db, actor=SYSTEM, distributor_org_id=distributor.id, data=data)
    assert result.imported == 0
    # the blank line 3 is skipped and still counted, as a spreadsheet shows it
    assert {error.row for error in result.errors} == {4, 5}
    # lower-case "eur" is taken as EUR; each wrong value names its column
    assert [(error.row, error.column) for error in result.errors] == [
        (4, "picked_on"),
        (5, "product_code"),
        (5, "quantity"),
    ]
    assert _count(db, distributor.id) == 0


def test_duplicates_in_the_file_and_against_stored_lines_are_refused(db: Session) -> None:
    distributor = make_distributor(db)
    product = make_product_model(db)
    first = _csv(product, "2026-01-15,{code},1,100.00,EUR,INV-1,1")
    assert import_pickups_csv(db, actor=SYSTEM, distributor_org_id=distributor.id, data=first).ok
    again = _csv(
        product,
        "2026-01-15,{code},1,100.00,EUR,INV-1,1",
        "2026-01-16,{code},1,100.00,EUR,INV-2,1",
        "2026-01-16,{code},1,100.00,EUR,INV-2,1",
    )
    result = import_pickups_csv(db, actor=SYSTEM, distributor_org_id=distributor.id, data=again)
    assert result.errors == (
        RowError(2, "document INV-1 line 1 is already recorded", True, "document_number"),
        RowError(4, "document INV-2 line 1 repeats row 3", True, "document_number"),
    )
    assert _count(db, distributor.id) == 1


def test_missing_columns_are_reported_on_the_header_row(db: Session) -> None:
    distributor = make_distributor(db)
    data = b"picked_on,quantity\n2026-01-01,1\n"
    result = import_pickups_csv(db, actor=SYSTEM, distributor_org_id=distributor.id, data=data)
    assert result.errors[0].row == 1
    assert "product_code" in result.errors[0].message


def test_another_distributors_user_may_not_import(db: Session) -> None:
    distributor = make_distributor(db)
    other = principal_of(make_user(db, org=make_distributor(db)))
    with pytest.raises(PermissionDenied):
        import_pickups_csv(db, actor=other, distributor_org_id=distributor.id, data=b"")


def test_customers_may_not_import_and_a_customer_org_is_no_distributor(db: Session) -> None:
    customer_org = make_org(db, kind=OrgKind.CUSTOMER)
    customer = principal_of(make_user(db, org=customer_org, role=Role.CUSTOMER))
    with pytest.raises(PermissionDenied):
        import_pickups_csv(db, actor=customer, distributor_org_id=customer_org.id, data=b"")
    with pytest.raises(NotFound):
        import_pickups_csv(db, actor=SYSTEM, distributor_org_id=customer_org.id, data=b"")


def test_erp_lines_are_added_and_a_resend_is_refused(db: Session) -> None:
    distributor = make_distributor(db)
    product = make_product_model(db)
    line = PickupIn(
        picked_on=date(2026, 3, 2),
        product_code=product.code,
        quantity=Decimal("4"),
        net_value=Decimal("1999.96"),
        currency="EUR",
        document_number="ERP-9",
        line_no=1,
    )
    assert add_pickups(db, actor=SYSTEM, distributor_org_id=distributor.id, lines=[line]).ok
    result = add_pickups(db, actor=SYSTEM, distributor_org_id=distributor.id, lines=[line])
    assert result.errors == (
        RowError(1, "document ERP-9 line 1 is already recorded", True, "document_number"),
    )
    assert _count(db, distributor.id) == 1
