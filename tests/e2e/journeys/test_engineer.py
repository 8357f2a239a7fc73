"""An engineer's job on the phone: the offer, the way there, the work, the signature, the
history with the signed report; every target big enough for a gloved thumb."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.models import User
from service_orders.dispatch import dispatch
from service_orders.models import Engineer, WorkOrderType
from service_orders.report_issuing import issue_missing_certificates
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import after_swap, log_in, open_work_order
from tests.e2e.journeys.walk import DESKTOP_WIDTH, PHONE_WIDTH, Walk
from tests.e2e.test_engineer_completes_job import _draw_signature

pytestmark = pytest.mark.e2e

CHECKLIST = ("Check refrigerant level", "Clean condenser coil")
TAP_PX = 44  # the smallest target a gloved thumb hits (WCAG 2.5.5, Apple and Android)
# what a thumb taps on the engineer's pages: header, main and the bottom bar
_TARGETS = (
    ".site-header a, .site-header button, main a, main button, main label.check, .engineer-nav a"
)


def _offered(live_server: LiveServer) -> tuple[int, str, str]:
    """A repair at Yard Freimann offered to whichever engineer dispatch picks:
    (id, number, login)."""
    with live_server.session() as session:
        order = open_work_order(
            session,
            site="Yard Freimann",
            title="Unit trips after ten minutes",
            kind=WorkOrderType.CORRECTIVE,
            priority=2,
            checklist=CHECKLIST,
        )
        decision = dispatch(session, work_order_id=order.id)
        assert decision.engineer_id is not None
        email = session.scalar(
            select(User.email)
            .join(Engineer, Engineer.user_id == User.id)
            .where(Engineer.id == decision.engineer_id)
        )
        session.commit()
        assert email is not None
        return order.id, order.number, email.split("@")[0]


def _assert_big_targets(page: Page, where: str) -> None:
    """Every visible link, button and checklist row is at least 44 x 44 px at 390 px."""
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    small = []
    for target in page.locator(_TARGETS).all():
        if not target.is_visible():
            continue
        box = target.bounding_box()
        assert box is not None
        if box["width"] < TAP_PX - 0.5 or box["height"] < TAP_PX - 0.5:
            words = (target.inner_text() or target.get_attribute("aria-label") or "").strip()
            small.append(f"{words[:30]!r} {box['width']:.0f}x{box['height']:.0f}")
    assert small == [], f"{where}: targets under {TAP_PX} px: {small}"


def _assert_bottom_bar(page: Page, current: str) -> None:
    """On the phone the bar is fixed at the bottom and the page's end scrolls clear of it;
    at desktop width it is gone and the header's navigation has the same entries."""
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    bar = page.get_by_role("navigation", name="Engineer")
    expect(bar).to_be_visible()
    expect(bar.get_by_role("link", name=current)).to_have_attribute("aria-current", "page")
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    gap = page.evaluate(
        """() => {
            const bar = document.querySelector('.engineer-nav').getBoundingClientRect();
            const last = [...document.querySelectorAll('main > *')]
                .filter((el) => el.checkVisibility() && !el.matches('.engineer-nav')).pop();
            return {barTop: bar.top, barBottom: bar.bottom, height: innerHeight,
                    contentBottom: last.getBoundingClientRect().bottom};
        }"""
    )
    assert abs(gap["barBottom"] - gap["height"]) < 1, gap  # fixed at the bottom edge
    assert gap["contentBottom"] <= gap["barTop"] + 0.5, gap  # nothing hides under it
    page.set_viewport_size({"width": DESKTOP_WIDTH, "height": 900})
    expect(bar).to_be_hidden()
    header = page.get_by_role("navigation", name="Main")
    expect(header.get_by_role("link", name="History")).to_be_visible()
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    page.evaluate("window.scrollTo(0, 0)")


def _site_photo(folder: Path) -> Path:
    """A 1600 x 1200 photo from the phone's camera."""
    path = folder / "condenser.jpg"
    image = Image.new("RGB", (1600, 1200), (40, 90, 160))
    image.paste((230, 180, 40), (600, 400, 1000, 800))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return path


def test_engineer_takes_the_offer_and_completes_the_job(
    phone: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    order_id, number, login = _offered(live_server)
    walk = Walk(phone, live_server, "engineer")
    log_in(phone, login, then="/engineer")
    card = phone.locator(f"#job-{order_id}")
    expect(card).to_contain_text("new offer")
    expect(card).not_to_contain_text("0 min")
    walk.step("offer")
    _assert_big_targets(phone, "offer")
    _assert_bottom_bar(phone, "My jobs")

    card.get_by_role("button", name="Accept").click()
    expect(card).to_contain_text("Accepted")
    expect(card.get_by_role("button", name="Accept")).to_have_count(0)
    walk.step("accepted")
    card.get_by_role("button", name="On my way").click()
    card.get_by_role("button", name="Arrived on site").click()
    expect(card).to_contain_text("On site")
    walk.step("on-site")

    card.get_by_role("link", name="Open job").click()
    for label in CHECKLIST:
        after_swap(phone, "#job", phone.get_by_label(label).check)
    phone.get_by_label("Part number").fill("CND-GSK-400")
    phone.get_by_label("Qty").fill("two")
    phone.get_by_role("button", name="Add part").click()
    expect(phone.locator("main")).to_contain_text("number")
    walk.step("part-refused")
    phone.get_by_label("Qty").fill("2")
    phone.get_by_role("button", name="Add part").click()
    expect(phone.locator("main")).to_contain_text("CND-GSK-400")
    walk.step("part-added")

    phone.get_by_label("Notes").fill("Condenser coil was blocked with leaves; cleaned.")
    phone.get_by_role("button", name="Save notes").click()
    status = phone.get_by_role("status").filter(has_text="Notes saved")
    expect(status).to_be_visible()
    expect(status).to_have_attribute("id", "notes-status")
    walk.step("notes-saved")
    phone.get_by_label("Notes").press_sequentially(" Fan OK.")
    expect(phone.locator("#notes-status")).to_have_text("")  # changed again: not saved yet

    phone.get_by_label("Add a photo").set_input_files(_site_photo(tmp_path))
    after_swap(phone, "#job", phone.get_by_role("button", name="Upload photo").click)
    thumbnail = phone.get_by_role("img", name="Photo 1")
    expect(thumbnail).to_be_visible()
    small = phone.request.get(str(thumbnail.get_attribute("src")))
    assert (small.status, small.headers["content-type"]) == (200, "image/jpeg"), small.text()
    thumbnail.scroll_into_view_if_needed()
    phone.wait_for_function("document.querySelector('.photo-link img').naturalWidth > 0")
    walk.step("photo-thumbnail")
    with phone.expect_popup() as opened:
        thumbnail.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url.endswith(f"/api/service-orders/photos/{full.url.rsplit('/', 1)[-1]}")
    assert full.evaluate("document.images[0].naturalWidth") == 1600
    full.close()
    expect(phone.get_by_label("Notes")).to_have_value(re.compile(r"cleaned\. Fan OK\.$"))
    phone.get_by_role("button", name="Save notes").click()
    expect(phone.locator("#notes-status")).to_have_text("Notes saved")
    _assert_big_targets(phone, "job on site")

    phone.get_by_label("Customer name").fill("Frieda Freimann")
    _draw_signature(phone)
    walk.step("ready-to-complete")
    phone.get_by_role("button", name="Complete job").click()
    expect(phone.get_by_role("heading", name="Completed")).to_be_visible()
    expect(phone.locator("main")).to_contain_text("report is being prepared")
    walk.step("completed")

    with live_server.session() as session:  # what the worker's certificate job does
        issue_missing_certificates(session, public_url=live_server.url)
        session.commit()
    phone.get_by_role("navigation", name="Engineer").get_by_role("link", name="History").click()
    row = phone.locator(f"#past-{order_id}")
    expect(row).to_contain_text(number)
    expect(row).to_contain_text("Fixed")
    walk.step("history")
    _assert_big_targets(phone, "history")
    _assert_bottom_bar(phone, "History")
    phone.get_by_role("searchbox").fill(number)
    expect(phone.locator(".list-count")).to_have_text("1 finished job")
    walk.step("history-search")

    row.get_by_role("link", name="Service report").click()
    expect(phone.get_by_role("heading", name=f"Service report {number}")).to_be_visible()
    walk.step("service-report")
    phone.go_back()
    phone.locator(f"#past-{order_id}").get_by_role("link", name=number).click()
    expect(phone.get_by_role("link", name="Report as PDF")).to_be_visible()
    walk.step("completed-with-report")
