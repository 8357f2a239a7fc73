"""The distributor's monthly pickups chart: month names, full values, nothing cut off."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import RESULTS, log_in

pytestmark = pytest.mark.e2e

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# what uPlot drew: tick labels, and for each axis the room it has against the room its
# longest label needs in the axis font (the y axis once showed "0,000" for "120,000")
_CHART_STATE = """(figure) => {
    const u = figure.uplot;
    const room = (axis) => {
        const longest = axis._values.reduce(
            (a, v) => String(v).length > a.length ? String(v) : a, '');
        u.ctx.font = axis.font[0];
        const text = u.ctx.measureText(longest).width / devicePixelRatio;
        return {size: axis._size, needs: Math.ceil(axis.ticks.size + axis.gap + text)};
    };
    const plot = figure.querySelector('.u-over').getBoundingClientRect();
    const box = figure.getBoundingClientRect();
    return {
        xticks: u.axes[0]._values, yticks: u.axes[1]._values,
        xmin: u.scales.x.min, xmax: u.scales.x.max,
        yroom: room(u.axes[1]), ylabel: u.axes[1].label,
        december: u.valToPos(12, 'x') + plot.left, plotRight: plot.right,
        chartRight: u.root.getBoundingClientRect().right, figureRight: box.right,
        legend: [...u.root.querySelectorAll('.u-legend .u-label')].map((e) => e.textContent),
    };
}"""


def _state(page: Page) -> dict[str, Any]:
    figure = page.locator("figure.rebate-chart")
    expect(figure.locator("canvas")).to_be_visible()
    state: dict[str, Any] = figure.evaluate(_CHART_STATE)
    return state


@pytest.mark.parametrize("width", [390, 1366])
def test_monthly_chart_names_months_and_shows_whole_values(
    laptop: Page, live_server: LiveServer, width: int
) -> None:
    laptop.set_viewport_size({"width": width, "height": 900})
    log_in(laptop, "distributor", then="/portal")
    chart = _state(laptop)

    assert chart["xticks"], chart
    assert all(tick in MONTHS for tick in chart["xticks"]), chart["xticks"]
    # January's and December's points and labels inside the plot
    assert chart["xmin"] < 1, chart
    assert chart["xmax"] > 12, chart
    assert chart["december"] < chart["plotRight"], chart
    assert chart["chartRight"] <= chart["figureRight"] + 1, chart
    assert chart["yroom"]["size"] >= chart["yroom"]["needs"], chart
    assert any(len(tick) >= 5 for tick in chart["yticks"]), chart  # full numbers, no "120k"
    assert "EUR" in chart["ylabel"], chart
    assert laptop.evaluate("document.documentElement.scrollWidth") <= width + 1
    monthly = laptop.locator("table").filter(has_text="Net value per month")
    months = monthly.locator("tbody th")
    expect(months).to_have_count(12)
    expect(months.first).to_have_text("Jan")
    expect(months.last).to_have_text("Dec")

    laptop.locator("#chart-head").scroll_into_view_if_needed()
    RESULTS.mkdir(parents=True, exist_ok=True)
    laptop.screenshot(path=str(RESULTS / f"charts/portal-dashboard-{width}.png"), full_page=True)
    assert live_server.console_errors == []
