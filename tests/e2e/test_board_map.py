"""The dispatch board's map has orientation offline: borders and town names under the markers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from service_orders.models import WorkOrderType
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in, open_work_order
from tests.e2e.journeys.walk import Walk

pytestmark = pytest.mark.e2e

# in the map container: the base map's shapes, the names shown, and where each marker and the
# container itself lie on the page
_READ_MAP = """(map) => {
    const box = (el) => { const r = el.getBoundingClientRect();
        return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
    return {
        container: box(map),
        shapes: map.querySelectorAll('.leaflet-basemap-pane path').length,
        names: [...map.querySelectorAll('.place-label span')].map((el) => ({
            text: el.textContent, box: box(el) })),
        markers: [...map.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive')]
            .map(box),
        attribution: map.querySelector('.leaflet-control-attribution')?.textContent || '',
    };
}"""


def _read_board_map(page: Page) -> dict[str, Any]:
    board_map = page.locator("#board-map")
    expect(board_map).to_have_class(re.compile(r"\bhas-basemap\b"))
    markers = board_map.locator(".leaflet-overlay-pane path.leaflet-interactive")
    expect(markers.first).to_be_visible()
    expect(board_map.locator(".place-label span", has_text="München")).to_be_visible()
    state: dict[str, Any] = board_map.evaluate(_READ_MAP)
    return state


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x0"] >= outer["x0"] - 0.5
        and inner["x1"] <= outer["x1"] + 0.5
        and inner["y0"] >= outer["y0"] - 0.5
        and inner["y1"] <= outer["y1"] + 0.5
    )


def _assert_a_map_with_orientation(state: dict[str, Any]) -> None:
    assert state["shapes"] >= 10, "countries, states, rivers: the base map drew no shapes"
    names = {name["text"] for name in state["names"]}
    assert {"München", "Augsburg"} <= names, sorted(names)
    munich = next(name for name in state["names"] if name["text"] == "München")
    assert _inside(munich["box"], state["container"]), munich
    assert state["markers"], "no engineer or asset on the map"
    outside = [m for m in state["markers"] if not _inside(m, state["container"])]
    assert outside == [], f"{len(outside)} of {len(state['markers'])} markers off the map"
    assert "Natural Earth" in state["attribution"]
    assert "GeoNames" in state["attribution"]


def test_the_board_map_shows_borders_and_towns_around_the_fleet_on_a_laptop(
    laptop: Page, live_server: LiveServer
) -> None:
    log_in(laptop, "dispatcher", then="/staff/dispatch")

    state = _read_board_map(laptop)

    _assert_a_map_with_orientation(state)
    names = {name["text"] for name in state["names"]}
    assert {"Ingolstadt", "Rosenheim"} <= names, sorted(names)
    Walk(laptop, live_server, "dispatcher-map", widths=(1366,)).step("board-map")


def test_the_board_map_fits_the_fleet_on_a_phone(phone: Page, live_server: LiveServer) -> None:
    log_in(phone, "dispatcher", then="/staff/dispatch")

    state = _read_board_map(phone)

    _assert_a_map_with_orientation(state)
    assert state["container"]["x1"] <= 390
    Walk(phone, live_server, "dispatcher-map", widths=(390,)).step("board-map-phone")


def test_a_title_with_markup_reads_as_text_in_its_map_tooltip(
    laptop: Page, live_server: LiveServer
) -> None:
    # a customer's request title is typed by a person: the board's tooltip shows it as text
    title = '<img id="injected" src="/x.png"> Door seal <b>torn</b>'
    with live_server.session() as session:
        open_work_order(
            session, site="Plant Herrsching", title=title, kind=WorkOrderType.CORRECTIVE
        )
        session.commit()
    log_in(laptop, "dispatcher", then="/staff/dispatch")
    laptop.locator("#board-map .leaflet-interactive").first.wait_for()

    tips = laptop.evaluate(
        """() => {
            for (const path of document.querySelectorAll('#board-map path.leaflet-interactive')) {
                path.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
            }
            return [...document.querySelectorAll('.leaflet-tooltip')].map(t => t.textContent);
        }"""
    )

    assert any(title in tip for tip in tips), tips
    assert laptop.locator("#injected").count() == 0
