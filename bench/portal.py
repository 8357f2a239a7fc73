"""Partner-portal benchmark (issue 6): a quarter's rebate settlement for 500 distributors over
2,000,000 pickup lines, and the distributor pages under 100 concurrent sessions.

Everything runs in a scratch database (`fieldcrm_bench_portal`, dropped at the end) and a
`fieldcrm web` of its own on a free port. Prints one JSON line.

    .venv/bin/python -m bench.portal           # the full run, a few minutes
    .venv/bin/python -m bench.portal --quick   # 50 distributors, 100k lines, 5 s of load

`settlement_s` is `settle()` for all distributors plus the commit, timed apart from the data
generation. `baseline_naive_s` settles the same quarter row by row in Python (each
distributor's pickups fetched and summed, the same `partner_portal.rebates` arithmetic, the
statements written one by one, rolled back); when it would take longer than
`--baseline-budget-s` it stops and is extrapolated from the distributors it did
(`baseline_sampled_distributors`). Pages: a closed loop, every session one request in flight,
dashboard and own statement in turn; `baseline_healthz_p99_ms` is `GET /healthz` (one
`SELECT 1`) under the same concurrency: what the machine gives any request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bench.fixtures import migrated, scratch_database
from bench.web_load import (
    WebServer,
    close_all,
    healthz_baseline,
    keep_pages,
    load_model,
    log_in_all,
    metered_load,
    probe,
    serial_figures,
    web_server,
)
from core.auth.passwords import hash_password
from core.auth.principal import Principal
from core.config import get_settings
from core.db import make_engine
from crm.models import User
from crm.service.users import principal_of
from partner_portal.models import (
    Calculation,
    Growth,
    Measure,
    PeriodKind,
    PickupLine,
    RebateProgram,
    RebateStatement,
    RebateStatementLine,
    RebateTier,
    StatementStatus,
)
from partner_portal.rebates import true_up
from partner_portal.settlement import (
    approve_statement,
    issue_statement,
    period_end_exclusive,
    program_terms,
    settle,
)

SETTLEMENT_LIMIT_S = 10.0
PAGE_P99_LIMIT_MS = 150.0
MONTHS = 15
PRODUCT_MODELS = 40
TIERS = (("0", "5000000", "1"), ("5000000", "15000000", "2"), ("15000000", None, "3"))

_DISTRIBUTORS_SQL = """
WITH orgs AS (
  INSERT INTO organizations (kind, name)
  SELECT 'distributor', 'Distributor ' || lpad(g::text, 4, '0') FROM generate_series(1, :n) g
  RETURNING id, name
), profiles AS (
  INSERT INTO distributor_profiles (org_id, tier, region)
  SELECT id, (ARRAY['silver', 'gold', 'platinum'])[1 + id % 3],
         (ARRAY['north', 'south', 'east', 'west'])[1 + id % 4]
  FROM orgs
)
INSERT INTO users (org_id, email, full_name, role, password_hash)
SELECT id, 'partner' || substr(name, 13) || '@portal.bench', 'Buyer of ' || name,
       'distributor', :hash
FROM orgs
"""
_PRODUCTS_SQL = """
INSERT INTO product_models (manufacturer_org_id, code, name, family, list_price, list_currency)
SELECT :maker, 'PB-' || g, 'Bench model ' || g,
       (ARRAY['compressor', 'chiller', 'pump', 'generator'])[1 + g % 4],
       100 + (g * 733) % 2900, 'EUR'
FROM generate_series(1, :n) g
"""
# Distributors are picked with a skew (random()^1.5): a few big ones, a long tail; 3% of the
# lines are returns (negative quantity). One document per line keeps the unique key.
_PICKUPS_SQL = """
INSERT INTO pickup_lines (distributor_org_id, picked_on, product_model_id, quantity,
                          net_value, currency, document_number, line_no)
SELECT d.ids[1 + floor(power(x.r1, 1.5) * d.n)::int],
       CAST(:first_day AS date) + floor(x.r2 * :days)::int,
       p.ids[1 + x.pi],
       x.q,
       round(x.q * p.prices[1 + x.pi] * (0.9 + 0.2 * x.r3)::numeric, 2),
       'EUR', 'BP-' || x.g, 1
FROM (
  SELECT g, random() AS r1, random() AS r2, random() AS r3,
         floor(random() * :products)::int AS pi,
         CASE WHEN random() < 0.03 THEN -1 ELSE 1 + floor(random() * 5)::int END AS q
  FROM generate_series(1, :lines) g
) x,
(SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n
 FROM organizations WHERE kind = 'distributor') d,
(SELECT array_agg(id ORDER BY id) AS ids, array_agg(list_price ORDER BY id) AS prices
 FROM product_models) p
"""


@dataclass(frozen=True)
class World:
    program_id: int
    period_start: date
    settler: Principal
    approver: Principal
    lines: int
    first_day: date
    last_day: date
    pickups_s: float


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@contextmanager
def indexes_set_aside(session: Session, table: str) -> Iterator[None]:
    """A bulk load without per-row index upkeep and foreign-key triggers.

    The secondary indexes and unique constraints are dropped and then re-created from their
    own definitions (same names, same columns): one sorted build each instead of two million
    random inserts. Foreign keys are not checked row by row (`session_replication_role`):
    the generated rows take their ids from the referenced tables themselves.
    """
    constraints = session.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:table AS regclass) AND contype = 'u'"
        ),
        {"table": table},
    ).all()
    indexes = session.execute(
        text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:table AS regclass) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        ),
        {"table": table},
    ).all()
    quoted = sql_identifier(table)
    for name, _ in constraints:
        session.execute(text(f"ALTER TABLE {quoted} DROP CONSTRAINT {sql_identifier(name)}"))
    for name, _ in indexes:
        session.execute(text(f"DROP INDEX {sql_identifier(name)}"))
    session.execute(text("SET LOCAL session_replication_role = replica"))
    yield
    session.execute(text("SET LOCAL session_replication_role = origin"))
    for _, definition in indexes:
        session.execute(text(definition))
    for name, definition in constraints:
        session.execute(
            text(f"ALTER TABLE {quoted} ADD CONSTRAINT {sql_identifier(name)} {definition}")
        )


def sql_identifier(name: str) -> str:
    """A catalog name quoted for SQL (names come from pg_catalog, never from input)."""
    return '"' + name.replace('"', '""') + '"'


def build_world(engine: Engine, *, distributors: int, lines: int, password: str) -> World:
    """Distributors with a user each, product models, pickups over 15 months, a program."""
    this_month = date.today().replace(day=1)
    first_day = _months_back(this_month, MONTHS)
    # the last completed quarter
    quarter_start = date(this_month.year, 1 + (this_month.month - 1) // 3 * 3, 1)
    period_start = _months_back(quarter_start, 3)
    password_hash = hash_password(password)  # once: argon2 is slow on purpose
    with Session(engine) as session, session.begin():
        maker = session.execute(
            text(
                "INSERT INTO organizations (kind, name) VALUES ('manufacturer', 'Bench Maker') "
                "RETURNING id"
            )
        ).scalar_one()
        staff = {}
        for name in ("settler", "approver"):
            user = User(
                org_id=maker,
                email=f"finance-{name}@portal.bench",
                full_name=f"Finance {name}",
                role="admin",
                password_hash=password_hash,
            )
            session.add(user)
            session.flush()
            staff[name] = principal_of(user)
        session.execute(text(_DISTRIBUTORS_SQL), {"n": distributors, "hash": password_hash})
        session.execute(text(_PRODUCTS_SQL), {"maker": maker, "n": PRODUCT_MODELS})
        session.execute(text("SELECT setseed(0.42)"))
        pickups_started = time.perf_counter()
        with indexes_set_aside(session, "pickup_lines"):
            session.execute(
                text(_PICKUPS_SQL),
                {
                    "first_day": first_day,
                    "days": (this_month - first_day).days,
                    "products": PRODUCT_MODELS,
                    "lines": lines,
                },
            )
        pickups_s = time.perf_counter() - pickups_started
        program = RebateProgram(
            name="Bench volume rebate",
            period_kind=PeriodKind.QUARTER,
            measure=Measure.NET_VALUE,
            calculation=Calculation.RETROACTIVE,
            growth=Growth.NONE,
            currency="EUR",
        )
        session.add(program)
        session.flush()
        session.add_all(
            RebateTier(
                program_id=program.id,
                lower_bound=Decimal(lower),
                upper_bound=None if upper is None else Decimal(upper),
                rate=Decimal(rate),
            )
            for lower, upper, rate in TIERS
        )
        program_id = program.id
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return World(
        program_id=program_id,
        period_start=period_start,
        settler=staff["settler"],
        approver=staff["approver"],
        lines=lines,
        first_day=first_day,
        last_day=date.fromordinal(this_month.toordinal() - 1),
        pickups_s=round(pickups_s, 1),
    )


def measure_settlement(engine: Engine, world: World) -> tuple[float, int]:
    """settle() for every distributor plus the commit: seconds and statements written."""
    with Session(engine, expire_on_commit=False) as session:
        session.connection()  # pool checkout and BEGIN are not the settlement's
        started = time.perf_counter()
        statements = settle(
            session,
            actor=world.settler,
            program_id=world.program_id,
            period_start=world.period_start,
        )
        session.commit()
        elapsed = time.perf_counter() - started
    return elapsed, len(statements)


def measure_naive(engine: Engine, world: World, *, budget_s: float) -> dict[str, Any]:
    """Settle row by row in Python, rolled back; extrapolated when over `budget_s`."""
    with Session(engine) as session:
        program = session.get_one(RebateProgram, world.program_id)
        terms = program_terms(session, program)
        end = period_end_exclusive(PeriodKind.QUARTER, world.period_start)
        year_start = date(world.period_start.year, 1, 1)
        prior_start = year_start.replace(year=year_start.year - 1)
        prior_end = end.replace(year=end.year - 1)
        distributor_ids = list(
            session.scalars(text("SELECT id FROM organizations WHERE kind = 'distributor'"))
        )
        started = time.perf_counter()
        done = 0
        for distributor_id in distributor_ids:
            rows = session.execute(
                select(
                    PickupLine.picked_on,
                    PickupLine.product_model_id,
                    PickupLine.quantity,
                    PickupLine.net_value,
                    PickupLine.currency,
                )
                .where(
                    PickupLine.distributor_org_id == distributor_id,
                    PickupLine.picked_on >= prior_start,
                    PickupLine.picked_on < end,
                )
                .order_by(PickupLine.id)
            ).all()
            period = ytd = prior = Decimal(0)
            by_product: dict[int, tuple[Decimal, Decimal, int]] = {}
            for picked_on, product_id, quantity, net_value, currency in rows:
                if currency != program.currency:
                    continue
                if year_start <= picked_on < end:
                    ytd += net_value
                    if picked_on >= world.period_start:
                        period += net_value
                        qty, value, count = by_product.get(product_id, (Decimal(0), Decimal(0), 0))
                        by_product[product_id] = (qty + quantity, value + net_value, count + 1)
                elif prior_start <= picked_on < prior_end:
                    prior += net_value
            result = true_up(terms, ytd_measure=ytd, prior_ytd_measure=prior)
            statement = RebateStatement(
                distributor_org_id=distributor_id,
                program_id=program.id,
                period_start=world.period_start,
                period_end=date.fromordinal(end.toordinal() - 1),
                status=StatementStatus.DRAFT.value,
                measure=period,
                ytd_measure=ytd,
                prior_ytd_measure=prior,
                ytd_rebate=result.ytd_rebate,
                previously_settled=result.previously_settled,
                payout=result.payout,
                currency=result.currency,
                created_by=world.settler.user_id,
            )
            session.add(statement)
            session.flush()
            session.add_all(
                RebateStatementLine(
                    statement_id=statement.id,
                    product_model_id=product_id,
                    quantity=quantity,
                    net_value=value,
                    line_count=count,
                )
                for product_id, (quantity, value, count) in sorted(by_product.items())
            )
            session.flush()
            done += 1
            if time.perf_counter() - started > budget_s:
                break
        elapsed = time.perf_counter() - started
        session.rollback()
    total = len(distributor_ids)
    naive = elapsed if done == total else elapsed / done * total
    return {
        "baseline_naive_s": round(naive, 2),
        "baseline_sampled_distributors": None if done == total else done,
    }


def issue_for_sessions(engine: Engine, world: World, *, count: int) -> dict[int, int]:
    """Approve and issue (PDF rendered) `count` statements spread evenly over the distributors
    (the pickups are skewed towards the lowest ids: the sessions see big and small ones)."""
    public_url = get_settings().resolved_public_url()
    with Session(engine, expire_on_commit=False) as session:
        chosen = session.execute(
            select(RebateStatement.distributor_org_id, RebateStatement.id)
            .where(
                RebateStatement.program_id == world.program_id,
                RebateStatement.period_start == world.period_start,
            )
            .order_by(RebateStatement.distributor_org_id)
        ).all()
        chosen = chosen[:: max(1, len(chosen) // count)][:count]
        for _, statement_id in chosen:
            approve_statement(session, actor=world.approver, statement_id=statement_id)
            issue_statement(
                session, actor=world.approver, statement_id=statement_id, public_url=public_url
            )
        session.commit()
    return {int(org_id): int(statement_id) for org_id, statement_id in chosen}


def _session_credentials(engine: Engine, org_ids: list[int]) -> list[tuple[str, int]]:
    with Session(engine) as session:
        rows = session.execute(
            select(User.email, User.org_id).where(User.org_id.in_(org_ids)).order_by(User.org_id)
        ).all()
    return [(email, org_id) for email, org_id in rows]


async def measure_pages(
    server: WebServer,
    credentials: list[tuple[str, int]],
    password: str,
    statements: dict[int, int],
    seconds: float,
    think_s: float = 0.0,
) -> dict[str, Any]:
    """Log every session in, then healthz (baseline) and the portal pages at full concurrency."""
    began = time.perf_counter()
    sessions = await log_in_all(server.url, [(email, password) for email, _ in credentials])
    result: dict[str, Any] = {
        "sessions": len(sessions),
        "login_s": round(time.perf_counter() - began, 1),
    }
    try:
        result.update(await healthz_baseline(sessions, seconds=min(seconds, 10.0)))
        for session, (_, org_id) in zip(sessions, credentials, strict=True):
            session.pages = [
                ("dashboard", "/portal"),
                ("statement", f"/portal/statements/{statements[org_id]}"),
            ]
        statuses = await probe(sessions)
        result["page_probe_status"] = statuses
        present = {label for label, status in statuses.items() if status == 200}
        keep_pages(sessions, present)
        if not present:
            result["pages_note"] = "no portal page answered 200 in this checkout: not measured"
            return result
        load, cpu = await metered_load(server, sessions, seconds=seconds, think_s=think_s)
        result.update(load.figures(prefix="page_"))
        result.update({f"load_{key}": value for key, value in cpu.items()})
        # the brief's names: dashboard_p99_ms, statement_p99_ms
        for page in ("dashboard", "statement"):
            for figure in ("p50_ms", "p99_ms", "requests"):
                result[f"{page}_{figure}"] = result.pop(f"page_{page}_{figure}", None)
        result["page_load_s"] = seconds
        result.update(await serial_figures(sessions[0], seconds=min(seconds, 5.0)))
        return result
    finally:
        await close_all(sessions)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.portal", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50 distributors, 100k lines, 5 s")
    parser.add_argument("--distributors", type=int, default=None)
    parser.add_argument("--lines", type=int, default=None)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--load-seconds", type=float, default=None)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument(
        "--think-s", type=float, default=0.0, help="mean pause after each page (0: closed loop)"
    )
    parser.add_argument("--baseline-budget-s", type=float, default=60.0)
    parser.add_argument("--database", default="fieldcrm_bench_portal")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns the figures main prints."""
    distributors = args.distributors or (50 if args.quick else 500)
    lines = args.lines or (100_000 if args.quick else 2_000_000)
    seconds = args.load_seconds or (5.0 if args.quick else 25.0)
    sessions = min(args.sessions, distributors)
    password = secrets.token_urlsafe(16)  # every bench user's, this run only
    began = time.perf_counter()
    result: dict[str, Any] = {"bench": "portal", "distributors": distributors, "lines": lines}
    with scratch_database(args.database) as url:
        engine = make_engine(migrated(url))
        try:
            build_started = time.perf_counter()
            world = build_world(engine, distributors=distributors, lines=lines, password=password)
            result["build_s"] = round(time.perf_counter() - build_started, 1)
            result["pickups_generated_s"] = world.pickups_s
            result["pickup_days"] = f"{world.first_day.isoformat()}..{world.last_day.isoformat()}"
            result["period_start"] = world.period_start.isoformat()
            result.update(measure_naive(engine, world, budget_s=args.baseline_budget_s))
            settlement_s, statements = measure_settlement(engine, world)
            result["settlement_s"] = round(settlement_s, 2)
            result["settlement_limit_s"] = SETTLEMENT_LIMIT_S
            result["settlement_ok"] = settlement_s < SETTLEMENT_LIMIT_S
            result["statements"] = statements
            result["speedup_vs_naive"] = round(result["baseline_naive_s"] / settlement_s, 1)
            issue_started = time.perf_counter()
            issued = issue_for_sessions(engine, world, count=sessions)
            result["issued_statements"] = len(issued)
            result["issue_s"] = round(time.perf_counter() - issue_started, 1)
            credentials = _session_credentials(engine, list(issued))
        finally:
            engine.dispose()
        log = get_settings().var_dir / "bench" / "portal-web.log"
        with web_server(url, workers=args.workers, log=log) as server:
            result["web_workers"] = server.workers
            pages = asyncio.run(
                measure_pages(server, credentials, password, issued, seconds, args.think_s)
            )
        result.update(pages)
    for key in ("page_p50_ms", "page_p99_ms", "dashboard_p99_ms", "statement_p99_ms"):
        result.setdefault(key, None)
    result["page_p99_limit_ms"] = PAGE_P99_LIMIT_MS
    p99 = result["page_p99_ms"]
    result["page_p99_ok"] = None if p99 is None else p99 < PAGE_P99_LIMIT_MS
    result["page_load_model"] = load_model(args.think_s)
    result["cpus"] = os.cpu_count()
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["wall_s"] = round(time.perf_counter() - began, 1)
    return result


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(run(_parse_args(argv))))


if __name__ == "__main__":
    main()
