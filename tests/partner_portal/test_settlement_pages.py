"""Finance's pages: runs only where a period can be settled, confirmed issue and payment,
a "waiting for you" start page, and refusals that name who may act."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.formatting import date_text, default_reader
from crm.capabilities import grant
from crm.models import Capability, OrgKind, User
from partner_portal.models import RebateStatement, StatementStatus
from partner_portal.settlement import approve_statement, settle
from partner_portal.statement_pdf import statement_number
from tests.crm.factories import PASSWORD, make_org, make_product_model, make_user, principal_of
from tests.fieldcrm.conftest import Browser
from tests.partner_portal.factories import add_pickup, make_distributor, make_program
from tests.partner_portal.statement_factories import settled_statement


def _staff(db: Session, role: Role = Role.ADMIN) -> User:
    return make_user(db, org=make_org(db, kind=OrgKind.MANUFACTURER), role=role)


def _card(html: str, start: date) -> str:
    shown = re.escape(date_text(start, default_reader()))  # "1 Jan 2025", as staff read it
    card = rf'<div class="card period">\s*<h3>{shown} .*?</div>'
    match = re.search(card + r'\s*(?=<div class="card period"|</section>)', html, re.S)
    assert match, f"no card for {start}"
    return match.group(0)


def test_only_periods_that_can_be_settled_offer_a_run(browser: Browser, db: Session) -> None:
    year = date.today().year - 1
    q1, q2, q3 = date(year, 1, 1), date(year, 4, 1), date(year, 7, 1)
    program = make_program(db)
    distributor, product = make_distributor(db), make_product_model(db)
    for day in (q1, q2):
        add_pickup(db, distributor=distributor, product=product, picked_on=day, net_value="500")
    runner = principal_of(_staff(db))
    settle(db, actor=runner, program_id=program.id, period_start=q1)
    settle(db, actor=runner, program_id=program.id, period_start=q2)
    browser.log_in(_staff(db).email, PASSWORD)

    page = browser.get(f"/staff/partners/programs/{program.id}").text

    first = _card(page, q1)
    assert "Run settlement" not in first
    assert "<form" not in first
    assert f"the later period {q2.isoformat()} – {date(year, 6, 30).isoformat()}" in first
    again = _card(page, q2)
    assert re.search(r'<button type="submit" class="secondary">Run again', again)
    assert "adds only distributors without a statement" in again
    unsettled = _card(page, q3)
    assert re.search(r'<button type="submit">Run settlement', unsettled)


def test_a_dispatcher_sees_no_run_and_is_told_who_settles(browser: Browser, db: Session) -> None:
    program = make_program(db)
    browser.log_in(_staff(db, Role.DISPATCHER).email, PASSWORD)

    page = browser.get(f"/staff/partners/programs/{program.id}").text
    assert "Run settlement" not in page
    assert "An administrator runs the settlement." in page

    refused = browser.post(
        f"/staff/partners/programs/{program.id}/settle",
        data={
            "csrf_token": browser.csrf_token("/staff/partners/programs"),
            "period_start": f"{date.today().year - 1}-01-01",
        },
    )
    assert refused.status_code == 403
    assert "Only an administrator may run a settlement." in refused.text
    assert "Only finance" not in refused.text


def test_an_administrator_refused_by_four_eyes_is_not_sent_to_an_administrator(
    browser: Browser, db: Session
) -> None:
    program = make_program(db)
    add_pickup(
        db,
        distributor=make_distributor(db),
        product=make_product_model(db),
        picked_on=date(2026, 1, 5),
        net_value="500",
    )
    runner = _staff(db)
    (statement,) = settle(
        db, actor=principal_of(runner), program_id=program.id, period_start=date(2026, 1, 1)
    )
    browser.log_in(runner.email, PASSWORD)

    refused = browser.post(
        f"/staff/partners/statements/{statement.id}/approve",
        data={"csrf_token": browser.csrf_token("/staff/partners/programs")},
    )

    assert refused.status_code == 403
    assert "You ran this settlement, so another administrator approves it" in refused.text
    assert "ask an administrator" not in refused.text


def test_issue_and_mark_paid_are_confirmed_first_without_javascript(
    browser: Browser, db: Session
) -> None:
    settled = settled_statement(db, issue=False)
    statement = settled.statement
    browser.log_in(_staff(db).email, PASSWORD)
    base = f"/staff/partners/statements/{statement.id}"

    page = browser.get(base).text
    assert not re.search(rf'<form[^>]*action="{base}/issue"', page)
    assert f'href="{base}/issue"' in page

    step = browser.get(f"{base}/issue").text
    assert f"Issue statement {statement_number(statement)}?" in step
    form = re.search(rf'<form method="post" action="{base}/issue".*?</form>', step, re.S)
    assert form is not None
    assert 'name="confirmed" value="yes"' in form.group(0)
    assert "Yes, issue it" in form.group(0)
    assert re.search(rf'<a [^>]*href="{base}"[^>]*>Cancel</a>', step)

    token = browser.csrf_token(base)
    unconfirmed = browser.post(f"{base}/issue", data={"csrf_token": token})
    assert unconfirmed.status_code == 200
    assert "Yes, issue it" in unconfirmed.text
    db.expire_all()
    assert db.get_one(RebateStatement, statement.id).status == StatementStatus.APPROVED

    issued = browser.post(f"{base}/issue", data={"csrf_token": token, "confirmed": "yes"})
    assert issued.status_code == 303
    db.expire_all()
    assert db.get_one(RebateStatement, statement.id).status == StatementStatus.ISSUED

    step = browser.get(f"{base}/paid").text
    assert f"Mark statement {statement_number(statement)} paid?" in step
    assert "Yes, mark it paid" in step
    browser.post(f"{base}/paid", data={"csrf_token": token})
    db.expire_all()
    assert db.get_one(RebateStatement, statement.id).status == StatementStatus.ISSUED
    browser.post(f"{base}/paid", data={"csrf_token": token, "confirmed": "yes"})
    db.expire_all()
    assert db.get_one(RebateStatement, statement.id).status == StatementStatus.PAID


def test_the_confirm_step_swaps_into_the_page_with_htmx(browser: Browser, db: Session) -> None:
    settled = settled_statement(db, issue=False)
    browser.log_in(_staff(db).email, PASSWORD)
    base = f"/staff/partners/statements/{settled.statement.id}"

    page = browser.get(base).text
    link = re.search(rf'<a [^>]*href="{base}/issue"[^>]*>', page)
    assert link is not None
    assert f'hx-get="{base}/issue"' in link.group(0)
    assert 'hx-target="#statement"' in link.group(0)

    fragment = browser.get(f"{base}/issue", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section id="statement"')
    assert "Yes, issue it" in fragment


def test_finance_lands_on_the_statements_waiting_for_them(browser: Browser, db: Session) -> None:
    finance = _staff(db)
    grant(db, user_id=finance.id, capability=Capability.FINANCE)
    runner = principal_of(_staff(db))
    waiting = settled_statement(db, issue=False)  # approved: to issue
    program = make_program(db)
    add_pickup(
        db,
        distributor=make_distributor(db),
        product=make_product_model(db),
        picked_on=date(2026, 1, 5),
        net_value="700",
    )
    # the new program counts both distributors' pickups: two drafts
    drafts = settle(db, actor=runner, program_id=program.id, period_start=date(2026, 1, 1))

    browser.log_in(finance.email, PASSWORD)
    assert browser.get("/").headers["location"] == "/staff/partners/finance"

    page = browser.get("/staff/partners/finance").text
    assert "<h1>Waiting for you</h1>" in page
    assert re.search(r"To approve\s*<span class=\"count\">2</span>", page)
    assert re.search(r"To issue\s*<span class=\"count\">1</span>", page)
    assert re.search(r"To mark paid\s*<span class=\"count\">0</span>", page)
    assert f'href="/staff/partners/statements/{drafts[0].id}"' in page
    assert f'href="/staff/partners/statements/{waiting.statement.id}"' in page
    assert "Nothing is waiting to be marked paid." in page

    approve_statement(db, actor=principal_of(finance), statement_id=drafts[0].id)
    page = browser.get("/staff/partners/finance").text
    assert re.search(r"To issue\s*<span class=\"count\">2</span>", page)


def test_an_administrator_without_finance_still_lands_on_the_dashboard(
    browser: Browser, db: Session
) -> None:
    browser.log_in(_staff(db).email, PASSWORD)
    assert browser.get("/").headers["location"] == "/staff"
