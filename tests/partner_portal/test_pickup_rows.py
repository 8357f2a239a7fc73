"""A pickup CSV's row errors: every error of every row, in words, with its column."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from partner_portal.pickups import import_pickups_csv, pickups_template
from tests.crm.factories import make_product_model
from tests.partner_portal.factories import make_distributor, make_program

HEADER = "picked_on,product_code,quantity,net_value,currency,document_number,line_no\n"


def _texts(db: Session, distributor_id: int, body: str) -> list[str]:
    result = import_pickups_csv(
        db, actor=SYSTEM, distributor_org_id=distributor_id, data=(HEADER + body).encode()
    )
    assert result.imported == 0
    return [error.text for error in result.errors]


def test_every_error_of_a_row_is_reported_with_its_column_in_words(db: Session) -> None:
    make_program(db)  # the installation settles in EUR
    distributor = make_distributor(db)
    product = make_product_model(db)
    texts = _texts(
        db,
        distributor.id,
        f"2026-01-15,{product.code},2,200.00,EUR,INV-1,1\n"
        "2026-02-30,PUMP-100,abc,12.345,USD,INV-1,x\n",
    )
    assert texts == [
        "Row 3, column picked_on: enter a date as year-month-day, such as 2026-01-15",
        f"Row 3, column product_code: there is no product PUMP-100; use one of our product "
        f"codes, such as {product.code}",
        "Row 3, column quantity: enter a number such as 12 or 12.5",
        "Row 3, column net_value: use at most 2 decimal places, such as 2400.50",
        "Row 3, column currency: enter the currency we settle in: EUR (not USD)",
        "Row 3, column line_no: enter a whole number from 1, such as 1",
    ]
    assert not any("Input should" in text or "valid decimal" in text for text in texts)


def test_empty_and_missing_values_say_what_to_enter(db: Session) -> None:
    distributor = make_distributor(db)
    texts = _texts(db, distributor.id, ",,0,,eu,\n")
    assert texts == [
        "Row 2, column picked_on: enter the pickup date, such as 2026-01-15",
        "Row 2, column product_code: enter the product code",
        "Row 2, column quantity: enter a quantity other than 0 (a return is negative, such as -2)",
        "Row 2, column net_value: enter the net value, such as 2400.00 (a return is negative)",
        "Row 2, column currency: enter a three-letter currency code, such as EUR",
        "Row 2, column document_number: enter the number of the delivery note or invoice",
        "Row 2, column line_no: enter the line number on the document, such as 1",
    ]


def test_the_template_imports_unchanged_with_this_installations_products(db: Session) -> None:
    distributor = make_distributor(db)
    product = make_product_model(db)
    data = pickups_template(db, distributor_org_id=distributor.id)
    assert product.code in data.decode()
    assert "PUMP-100" not in data.decode()
    result = import_pickups_csv(db, actor=SYSTEM, distributor_org_id=distributor.id, data=data)
    assert result.ok, [error.text for error in result.errors]
    assert result.imported >= 1
    # downloaded again after that import, it still imports (a fresh document number)
    again = pickups_template(db, distributor_org_id=distributor.id)
    assert import_pickups_csv(db, actor=SYSTEM, distributor_org_id=distributor.id, data=again).ok
