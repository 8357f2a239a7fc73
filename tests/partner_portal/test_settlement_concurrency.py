"""Two settlement runs at once, each on its own committed connection: one statement each."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from crm.models import OrgKind
from partner_portal.models import RebateStatement
from partner_portal.settlement import settle
from tests.crm.factories import make_org, make_product_model, make_user, principal_of
from tests.partner_portal.factories import add_pickup, make_distributor, make_program

Q1 = date(2026, 1, 1)
DISTRIBUTORS = 3


@dataclass
class World:
    admin: Principal
    program_id: int
    distributor_ids: list[int]


@pytest.fixture
def world(db_engine: Engine) -> Iterator[World]:
    """A program, three distributors with pickups and an admin, committed; removed afterwards."""
    with Session(db_engine) as session:
        maker = make_org(session, kind=OrgKind.MANUFACTURER)
        admin = make_user(session, org=maker)
        product = make_product_model(session, manufacturer=maker)
        program = make_program(session)
        distributors = [make_distributor(session) for _ in range(DISTRIBUTORS)]
        for distributor in distributors:
            add_pickup(
                session, distributor=distributor, product=product, picked_on=Q1, net_value="500"
            )
        session.commit()
        made = World(principal_of(admin), program.id, [d.id for d in distributors])
        ids = {
            "program": program.id,
            "orgs": [maker.id, *made.distributor_ids],
            "user": admin.id,
            "model": product.id,
        }
    try:
        yield made
    finally:
        _remove(db_engine, ids)


def _remove(engine: Engine, ids: dict[str, object]) -> None:
    statements = [
        "DELETE FROM audit_log WHERE entity = 'rebate_statements' AND entity_id IN "
        "(SELECT id::text FROM rebate_statements WHERE program_id = :program)",
        "DELETE FROM rebate_statements WHERE program_id = :program",
        "DELETE FROM rebate_programs WHERE id = :program",
        "DELETE FROM pickup_lines WHERE distributor_org_id = ANY(:orgs)",
        "DELETE FROM users WHERE id = :user",
        "DELETE FROM metric_definitions WHERE product_model_id = :model",
        "DELETE FROM product_models WHERE id = :model",
        "DELETE FROM organizations WHERE id = ANY(:orgs)",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), ids)


def test_two_concurrent_runs_give_one_statement_per_distributor(
    db_engine: Engine, world: World
) -> None:
    start = threading.Barrier(2)
    created: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with Session(db_engine) as session:
                start.wait(timeout=10)
                made = settle(
                    session, actor=world.admin, program_id=world.program_id, period_start=Q1
                )
                session.commit()
                created.append(len(made))
        except BaseException as exc:  # noqa: BLE001  # reported to the test thread below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert failures == []
    assert sorted(created) == [0, DISTRIBUTORS]
    with Session(db_engine) as session:
        per_distributor = session.execute(
            select(RebateStatement.distributor_org_id, func.count())
            .where(RebateStatement.program_id == world.program_id)
            .group_by(RebateStatement.distributor_org_id)
        ).all()
    assert sorted(per_distributor) == [(org_id, 1) for org_id in sorted(world.distributor_ids)]
