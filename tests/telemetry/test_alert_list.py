"""The staff alerts list: search, filters, sorting, pages and counts; acknowledge and clear
from the list (with htmx and without); who may see it; the JSON API under the same rules."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from sqlalchemy.orm import Session

from core.auth.roles import Role
from core.db import utcnow
from crm.models import Organization, Site
from telemetry.alerts.models import Alert
from telemetry.rules.models import Rule
from tests.crm.factories import make_org
from tests.fieldcrm.conftest import Browser
from tests.service_orders.dispatch_factories import make_work_order
from tests.telemetry.rule_factories import (
    PRESSURE,
    VIBRATION,
    Reporting,
    make_reporting_asset,
    make_rule,
)
from tests.telemetry.view_factories import log_in_as

HTMX = {"HX-Request": "true", "HX-Target": "alert_list"}
_minutes = itertools.count(1)
# what each kind of rule needs besides the metric's own limits
_RULE_PARAMS = {
    "duration": {"above": 130, "seconds": 60},
    "rate_of_change": {"per_minute": 10},
}


def _alert(
    db: Session,
    r: Reporting,
    *,
    severity: str = "major",
    status: str = "open",
    kind: str = "threshold",
    metric_key: str = "pressure",
    message: str = "Hydraulic pressure 171 bar above the critical limit 160 bar",
    predicted_in: timedelta | None = None,
) -> Alert:
    """An alert of its own rule (one active alert per device and rule), opened a minute after
    the one made before it."""
    rule: Rule = make_rule(
        db, r, kind=kind, metric_key=metric_key, severity=severity, params=_RULE_PARAMS.get(kind)
    )
    opened = utcnow() - timedelta(hours=2) + timedelta(minutes=next(_minutes))
    alert = Alert(
        device_id=r.device.id,
        asset_id=r.asset.id,
        rule_id=rule.id,
        metric_key=metric_key,
        kind=kind,
        severity=severity,
        status=status,
        message=message,
        value=171.0,
        opened_at=opened,
        updated_at=opened,
        cleared_at=utcnow() if status == "cleared" else None,
        clear_reason="condition" if status == "cleared" else None,
        predicted_failure_at=utcnow() + predicted_in if predicted_in else None,
    )
    db.add(alert)
    db.flush()
    return alert


def _customer(db: Session, name: str = "Alert List Customer") -> Organization:
    return make_org(db, name=name)


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="alert-row[^"]*" id="alert-(\d+)"', html)]


def _mixed(db: Session) -> tuple[Organization, dict[str, Alert]]:
    """One customer's asset with an open critical, an acknowledged warning, a cleared major."""
    owner = _customer(db)
    r = make_reporting_asset(db, owner=owner, metrics=(PRESSURE, VIBRATION))
    alerts = {
        "open": _alert(db, r, severity="critical", kind="threshold"),
        "acknowledged": _alert(db, r, severity="warning", kind="duration", status="acknowledged"),
        "cleared": _alert(db, r, severity="major", kind="rate_of_change", status="cleared"),
    }
    return owner, alerts


def test_the_list_shows_the_active_alerts_by_default_and_the_others_when_asked(
    browser: Browser, db: Session
) -> None:
    owner, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)
    mine = f"customer={owner.id}"

    default = browser.get(f"/staff/alerts?{mine}")
    cleared = browser.get(f"/staff/alerts?{mine}&status=cleared")
    everything = browser.get(f"/staff/alerts?{mine}&status=all")
    acknowledged = browser.get(f"/staff/alerts?{mine}&status=acknowledged")

    assert default.status_code == 200
    assert set(_ids(default.text)) == {alerts["open"].id, alerts["acknowledged"].id}
    assert _ids(cleared.text) == [alerts["cleared"].id]
    assert set(_ids(everything.text)) == {a.id for a in alerts.values()}
    assert _ids(acknowledged.text) == [alerts["acknowledged"].id]
    assert "Status: open or acknowledged" in default.text
    assert "back to normal" in cleared.text  # why it cleared, in words


def test_each_row_says_severity_status_metric_asset_customer_and_times_in_words(
    browser: Browser, db: Session
) -> None:
    owner = _customer(db, name="Brauerei Words")
    r = make_reporting_asset(db, owner=owner)
    alert = _alert(db, r, severity="critical", kind="trend", predicted_in=timedelta(hours=10))
    log_in_as(browser, db, Role.DISPATCHER)

    site = db.get(Site, r.asset.site_id)
    assert site is not None
    page = browser.get(f"/staff/alerts?customer={owner.id}")
    row = page.text[page.text.index(f'id="alert-{alert.id}"') :]
    row = row[: row.index("</li>")]

    assert "Critical" in row
    assert "Open" in row
    assert "Hydraulic pressure" in row  # the product model's label, not the key
    assert ">pressure<" not in row
    assert "Heading for a limit" in row  # the rule kind in words
    assert r.asset.serial in row
    assert site.name in row
    assert "Brauerei Words" in row
    assert "Predicted failure" in row
    assert "no work order yet" in row
    assert f'action="/staff/alerts/{alert.id}/acknowledge"' in row
    assert f'action="/staff/alerts/{alert.id}/clear"' in row


def test_the_work_order_raised_for_an_alert_is_linked(browser: Browser, db: Session) -> None:
    owner = _customer(db)
    r = make_reporting_asset(db, owner=owner)
    alert = _alert(db, r)
    order = make_work_order(db, asset=r.asset)
    order.alert_id = alert.id
    db.flush()
    log_in_as(browser, db, Role.DISPATCHER)

    page = browser.get(f"/staff/alerts?customer={owner.id}")

    assert f'href="/staff/dispatch#order-{order.id}">{order.number}</a> (new)' in page.text


def test_a_cleared_alert_offers_no_actions_and_an_acknowledged_one_only_clear(
    browser: Browser, db: Session
) -> None:
    owner, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)

    page = browser.get(f"/staff/alerts?customer={owner.id}&status=all").text

    assert f"/staff/alerts/{alerts['cleared'].id}/" not in page
    assert f"/staff/alerts/{alerts['acknowledged'].id}/acknowledge" not in page
    assert f"/staff/alerts/{alerts['acknowledged'].id}/clear" in page


def test_search_finds_alerts_by_device_key_serial_customer_and_message(
    browser: Browser, db: Session
) -> None:
    owner = _customer(db, name="Molkerei Searchable")
    r = make_reporting_asset(db, owner=owner)
    other = make_reporting_asset(db, owner=_customer(db, name="Somebody Else"))
    wanted = _alert(db, r, message="Oil mist in the condenser housing")
    _alert(db, other)
    log_in_as(browser, db, Role.DISPATCHER)

    for words in (r.device.key, r.asset.serial.lower(), "molkerei search", "OIL MIST"):
        page = browser.get("/staff/alerts", params={"q": words}, headers=HTMX)
        assert page.status_code == 200
        assert "<html" not in page.text  # only the list: the search box keeps its focus
        assert _ids(page.text) == [wanted.id], words
        assert "1 alert" in page.text


def test_filters_by_severity_rule_kind_metric_and_customer(browser: Browser, db: Session) -> None:
    owner = _customer(db)
    r = make_reporting_asset(db, owner=owner, metrics=(PRESSURE, VIBRATION))
    critical = _alert(db, r, severity="critical", kind="threshold")
    shaking = _alert(db, r, severity="warning", kind="anomaly", metric_key="vibration_rms")
    other_owner = _customer(db, name="Not This One")
    elsewhere = _alert(db, make_reporting_asset(db, owner=other_owner))
    log_in_as(browser, db, Role.DISPATCHER)
    mine = f"customer={owner.id}"

    def shown(query: str) -> set[int]:
        return set(_ids(browser.get(f"/staff/alerts?{query}").text))

    assert shown(f"{mine}&severity=critical") == {critical.id}
    assert shown(f"{mine}&kind=anomaly") == {shaking.id}
    assert shown(f"{mine}&metric=vibration_rms") == {shaking.id}
    assert shown(mine) == {critical.id, shaking.id}
    assert shown(f"customer={other_owner.id}") == {elsewhere.id}
    page = browser.get(f"/staff/alerts?{mine}").text
    assert '<option value="vibration_rms">Vibration</option>' in page  # the metric in words
    assert '<option value="anomaly">Unusual reading</option>' in page


def test_sorting_by_severity_puts_the_worst_first_and_opened_the_newest(
    browser: Browser, db: Session
) -> None:
    owner = _customer(db)
    r = make_reporting_asset(db, owner=owner)
    warning = _alert(db, r, severity="warning", kind="threshold")
    critical = _alert(db, r, severity="critical", kind="duration")
    major = _alert(db, r, severity="major", kind="anomaly")
    log_in_as(browser, db, Role.DISPATCHER)
    mine = f"customer={owner.id}"

    def order(sort: str) -> list[int]:
        return _ids(browser.get(f"/staff/alerts?{mine}&sort={sort}").text)

    assert order("severity") == [critical.id, major.id, warning.id]
    assert order("-severity") == [warning.id, major.id, critical.id]
    assert order("-opened") == [major.id, critical.id, warning.id]
    assert order("opened") == [warning.id, critical.id, major.id]
    # the default: severity, the worst first
    assert _ids(browser.get(f"/staff/alerts?{mine}").text) == order("severity")


def test_a_long_list_comes_in_pages_with_counts(browser: Browser, db: Session) -> None:
    owner = _customer(db)
    for _ in range(30):  # a rule is one per model, kind and metric: a model each
        _alert(db, make_reporting_asset(db, owner=owner))
    log_in_as(browser, db, Role.DISPATCHER)

    first = browser.get(f"/staff/alerts?customer={owner.id}&sort=-opened")
    second = browser.get(f"/staff/alerts?customer={owner.id}&sort=-opened&page=2")

    assert len(_ids(first.text)) == 25
    assert "1–25 of 30 alerts" in first.text
    assert 'rel="next"' in first.text
    assert len(_ids(second.text)) == 5
    assert "26–30 of 30 alerts" in second.text
    assert set(_ids(first.text)).isdisjoint(_ids(second.text))


@pytest.mark.parametrize(
    "query", ["sort=drop table", "page=-3", "per_page=100000", "status=x", "severity=?"]
)
def test_odd_parameters_fall_back_instead_of_failing(
    browser: Browser, db: Session, query: str
) -> None:
    _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)
    assert browser.get(f"/staff/alerts?{query}").status_code == 200


def test_nothing_found_says_what_to_do(browser: Browser, db: Session) -> None:
    _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)

    page = browser.get("/staff/alerts", params={"q": "no-such-alert-anywhere"})

    assert "No alerts match." in page.text
    assert "show all active alerts" in page.text
    assert "All, cleared too" in page.text


def test_acknowledge_without_javascript_comes_back_to_the_same_list(
    browser: Browser, db: Session
) -> None:
    owner, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)
    back = f"?customer={owner.id}&severity=critical&sort=-opened"
    token = browser.csrf_token(f"/staff/alerts{back}")

    done = browser.post(
        f"/staff/alerts/{alerts['open'].id}/acknowledge",
        data={"csrf_token": token, "back": back},
        follow_redirects=False,
    )

    assert done.status_code == 303
    path, _, query = done.headers["location"].partition("?")
    assert (path, parse_qs(query)) == ("/staff/alerts", parse_qs(back[1:]))
    db.refresh(alerts["open"])
    assert alerts["open"].status == "acknowledged"
    page = browser.get(done.headers["location"]).text
    assert "Acknowledged: Hydraulic pressure on" in page  # the one-time message


def test_acknowledge_with_htmx_swaps_the_list_in_place(browser: Browser, db: Session) -> None:
    owner, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)
    token = browser.csrf_token(f"/staff/alerts?customer={owner.id}")

    swapped = browser.post(
        f"/staff/alerts/{alerts['open'].id}/acknowledge",
        data={"csrf_token": token, "back": f"?customer={owner.id}"},
        headers=HTMX,
    )

    assert swapped.status_code == 200
    assert "<html" not in swapped.text
    assert swapped.text.lstrip().startswith('<section id="alert_list"')
    assert "Acknowledged: Hydraulic pressure" in swapped.text
    assert f"/staff/alerts/{alerts['open'].id}/acknowledge" not in swapped.text
    assert set(_ids(swapped.text)) == {alerts["open"].id, alerts["acknowledged"].id}


def test_clear_with_a_reason_leaves_the_active_list(browser: Browser, db: Session) -> None:
    owner, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)
    token = browser.csrf_token(f"/staff/alerts?customer={owner.id}")

    swapped = browser.post(
        f"/staff/alerts/{alerts['acknowledged'].id}/clear",
        data={"csrf_token": token, "back": f"?customer={owner.id}", "reason": "sensor replaced"},
        headers=HTMX,
    )

    assert swapped.status_code == 200
    assert _ids(swapped.text) == [alerts["open"].id]
    db.refresh(alerts["acknowledged"])
    assert (alerts["acknowledged"].status, alerts["acknowledged"].clear_reason) == (
        "cleared",
        "manual",
    )


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_clear_without_a_reason_says_so_next_to_the_field(
    browser: Browser, db: Session, htmx: bool
) -> None:
    owner, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)
    token = browser.csrf_token(f"/staff/alerts?customer={owner.id}")
    target = alerts["open"].id

    refused = browser.post(
        f"/staff/alerts/{target}/clear",
        data={"csrf_token": token, "back": f"?customer={owner.id}", "reason": "   "},
        headers=HTMX if htmx else {},
        follow_redirects=False,
    )

    assert refused.status_code == 422
    assert ("<html" in refused.text) is (not htmx)
    assert f'id="clear-reason-{target}-error">Say why the alert is cleared.</p>' in refused.text
    assert f'aria-describedby="clear-reason-{target}-error"' in refused.text
    assert set(_ids(refused.text)) == {alerts["open"].id, alerts["acknowledged"].id}
    db.refresh(alerts["open"])
    assert alerts["open"].status == "open"


def test_the_way_back_never_leaves_the_list(browser: Browser, db: Session) -> None:
    _, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)
    token = browser.csrf_token("/staff/alerts")

    done = browser.post(
        f"/staff/alerts/{alerts['open'].id}/acknowledge",
        data={"csrf_token": token, "back": "//evil.example/?q=x"},
        follow_redirects=False,
    )

    assert done.headers["location"].startswith("/staff/alerts?")


def test_the_asset_page_keeps_its_own_forms(browser: Browser, db: Session) -> None:
    """Without `back` the same actions return to the asset page, as before."""
    _, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)
    token = browser.csrf_token("/staff/alerts")

    done = browser.post(
        f"/staff/alerts/{alerts['open'].id}/acknowledge",
        data={"csrf_token": token},
        follow_redirects=False,
    )

    assert done.headers["location"] == f"/staff/assets/{alerts['open'].asset_id}"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DISPATCHER])
def test_staff_find_the_list_in_their_navigation(browser: Browser, db: Session, role: Role) -> None:
    log_in_as(browser, db, role)
    page = browser.get("/staff/alerts")
    assert page.status_code == 200
    assert 'href="/staff/alerts"' in browser.get("/staff").text


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.CUSTOMER, Role.DISTRIBUTOR])
def test_others_may_not_open_the_list_or_act_on_it(
    browser: Browser, db: Session, role: Role
) -> None:
    owner, alerts = _mixed(db)
    log_in_as(browser, db, role, org=owner if role == Role.CUSTOMER else None)
    home = {Role.ENGINEER: "/engineer", Role.CUSTOMER: "/customer", Role.DISTRIBUTOR: "/portal"}
    token = browser.csrf_token(home[role])

    assert browser.get("/staff/alerts").status_code == 403
    acknowledged = browser.post(
        f"/staff/alerts/{alerts['open'].id}/acknowledge",
        data={"csrf_token": token, "back": ""},
        follow_redirects=False,
    )
    assert acknowledged.status_code == 403
    db.refresh(alerts["open"])
    assert alerts["open"].status == "open"


def test_the_api_filters_sorts_and_pages_like_the_list(browser: Browser, db: Session) -> None:
    owner, alerts = _mixed(db)
    log_in_as(browser, db, Role.DISPATCHER)

    active = browser.get("/api/telemetry/alerts", params={"customer": owner.id}).json()
    every = browser.get(
        "/api/telemetry/alerts",
        params={"customer": owner.id, "status": "all", "sort": "-severity", "per_page": 50},
    ).json()
    searched = browser.get(
        "/api/telemetry/alerts", params={"q": "hydraulic", "customer": owner.id, "kind": "duration"}
    ).json()

    assert {a["id"] for a in active["items"]} == {alerts["open"].id, alerts["acknowledged"].id}
    assert (active["total"], active["page"], active["pages"]) == (2, 1, 1)
    assert [a["severity"] for a in every["items"]] == ["warning", "major", "critical"]
    assert every["per_page"] == 50
    assert [a["id"] for a in searched["items"]] == [alerts["acknowledged"].id]
    item = active["items"][0]
    assert item["metric_label"] == "Hydraulic pressure"
    assert item["customer"] == owner.name
    assert browser.get("/api/telemetry/alerts", params={"sort": "nonsense"}).status_code == 422


def test_the_api_shows_a_customer_only_their_own_alerts(browser: Browser, db: Session) -> None:
    owner, alerts = _mixed(db)
    other_owner, _ = _mixed(db)
    log_in_as(browser, db, Role.CUSTOMER, org=owner)

    own = browser.get("/api/telemetry/alerts", params={"status": "all"}).json()
    asked_for_theirs = browser.get(
        "/api/telemetry/alerts", params={"status": "all", "customer": other_owner.id}
    ).json()

    assert {a["id"] for a in own["items"]} == {a.id for a in alerts.values()}
    assert asked_for_theirs == {"items": [], "total": 0, "page": 1, "per_page": 25, "pages": 1}
    assert browser.get("/staff/alerts").status_code == 403
