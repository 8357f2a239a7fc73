"""Steps the browser tests share: log in, save a README screenshot, find demo records."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import PROJECT_ROOT
from crm.models import Asset, Site, User
from crm.service import principal_of
from fieldcrm.seed import DEMO_DOMAIN, DEMO_PASSWORD
from service_orders.models import Engineer, WorkOrder, WorkOrderType
from service_orders.schemas import ChecklistItem, WorkOrderCreate
from service_orders.workorders import create_work_order

SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
RESULTS = PROJECT_ROOT / "tests" / "e2e" / "results"
MAX_SCREENSHOT_BYTES = 300 * 1024


def log_in(page: Page, local: str, *, then: str) -> None:
    """Log in as a demo user (by the local part of the e-mail) and land on `then`."""
    page.goto(f"/login?next={then}")
    page.get_by_label("E-mail").fill(f"{local}@{DEMO_DOMAIN}")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(then) + "$"))


def save_screenshot(page: Page, role: str) -> None:
    """The README's picture of a role's page: the viewport only, kept small. Written to
    docs/screenshots/ with FIELDCRM_README_SCREENSHOTS=1 (so a test run leaves the checkout
    clean), to tests/e2e/results/ otherwise."""
    folder = SCREENSHOTS if os.environ.get("FIELDCRM_README_SCREENSHOTS") == "1" else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{role}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    assert path.stat().st_size < MAX_SCREENSHOT_BYTES, f"{path} is too large for the README"


def demo_user(session: Session, local: str) -> User:
    return session.scalars(select(User).where(User.email == f"{local}@{DEMO_DOMAIN}")).one()


def engineer_of(session: Session, local: str) -> Engineer:
    user = demo_user(session, local)
    return session.scalars(select(Engineer).where(Engineer.user_id == user.id)).one()


def asset_at(session: Session, site_name: str) -> Asset:
    """The first demo asset (by id) at the site of that name."""
    found = session.scalars(
        select(Asset)
        .join(Site, Site.id == Asset.site_id)
        .where(Site.name == site_name)
        .order_by(Asset.id)
    ).first()
    if found is None:
        raise LookupError(f"no demo asset at {site_name}")
    return found


def after_swap(page: Page, selector: str, action: Callable[[], object]) -> None:
    """Do `action` and wait until htmx has swapped a new `selector` element in for the old one."""
    page.locator(selector).evaluate("element => { element.dataset.stale = 'yes'; }")
    action()
    expect(page.locator(f"{selector}[data-stale]")).to_have_count(0)


def open_work_order(
    session: Session,
    *,
    site: str,
    title: str,
    kind: WorkOrderType,
    priority: int = 3,
    checklist: tuple[str, ...] = (),
) -> WorkOrder:
    """A work order the demo dispatcher opens for the first asset at a demo site."""
    return create_work_order(
        session,
        actor=principal_of(demo_user(session, "dispatcher")),
        data=WorkOrderCreate(
            type=kind,
            asset_id=asset_at(session, site).id,
            priority=priority,
            title=title,
            checklist=[ChecklistItem(label=label) for label in checklist],
        ),
    )
