"""Jinja2 environment over every package's templates, and the htmx-aware render helper."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import Response

import core
from core.auth.principal import Principal
from core.auth.roles import Role
from core.formatting import install_template_formats, reader_of
from core.labels import label
from core.web.flash import flash_message, pop_flash
from core.web.icons import ICONS, SPRITE_NAME, nav_icon
from core.web.maps import map_base_attrs
from core.web.static import vendor_url

TEMPLATE_PACKAGES = (
    "core",
    "crm",
    "telemetry",
    "service_orders",
    "ledger",
    "partner_portal",
    "customer_app",
)
REPO_ROOT = Path(core.__file__).resolve().parent.parent

_NAV_BY_ROLE: dict[Role, list[tuple[str, str]]] = {
    Role.ADMIN: [
        ("Dashboard", "/staff"),
        ("Dispatch", "/staff/dispatch"),
        ("Devices", "/staff/devices"),
        ("Alerts", "/staff/alerts"),
        ("Partners", "/staff/partners"),
        ("Approvals", "/staff/approvals"),
        ("Satisfaction", "/staff/satisfaction"),
        ("Dead letters", "/staff/dead-letters"),
        ("Company", "/staff/company"),
    ],
    Role.DISPATCHER: [
        ("Dashboard", "/staff"),
        ("Dispatch", "/staff/dispatch"),
        ("Devices", "/staff/devices"),
        ("Alerts", "/staff/alerts"),
        ("Approvals", "/staff/approvals"),
        ("Satisfaction", "/staff/satisfaction"),
        ("Dead letters", "/staff/dead-letters"),
    ],
    Role.ENGINEER: [("My jobs", "/engineer"), ("History", "/engineer/history")],
    Role.DISTRIBUTOR: [
        ("Dashboard", "/portal"),
        ("Documents", "/portal/documents"),
        ("Training", "/portal/training"),
        ("Pickups", "/portal/pickups"),
        ("Statements", "/portal/statements"),
        ("Inquiries", "/portal/inquiries"),
        ("Contracts", "/portal/contracts"),
        ("Users", "/portal/users"),
    ],
    Role.CUSTOMER: [
        ("My devices", "/customer"),
        ("Service", "/customer/service"),
        ("Alerts", "/customer/watches"),
    ],
}
_ANONYMOUS_NAV = [("Login", "/login")]


def template_dirs(root: Path = REPO_ROOT) -> list[Path]:
    """The existing `templates/` directories of the domain packages, core first."""
    dirs = (root / package / "templates" for package in TEMPLATE_PACKAGES)
    return [path for path in dirs if path.is_dir()]


@lru_cache
def get_templates() -> Jinja2Blocks:
    """The process-wide template renderer (built on first use, not at import)."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(path) for path in template_dirs()]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["vendor_url"] = vendor_url
    env.globals["map_base_attrs"] = map_base_attrs
    env.globals["icon_href"] = icon_href
    env.globals["nav_icon"] = nav_icon
    env.filters["label"] = label
    install_template_formats(env)
    # every template may call icon(name) without importing it
    macros = env.get_template("core/_icons.html").module
    env.globals["icon"] = macros.icon  # type: ignore[attr-defined]  # a macro: known at run time
    return Jinja2Blocks(env=env)


def icon_href(name: str) -> str:
    """The sprite URL of one icon; an icon the sprite lacks is a mistake, not a blank."""
    if name not in ICONS:
        raise KeyError(f"icon {name!r} is not in core/web/icons.py ICONS")
    return f"{vendor_url(SPRITE_NAME)}#{name}"


def nav_for(principal: Principal | None) -> list[tuple[str, str]]:
    """The (label, url) navigation entries a principal sees in the header."""
    if principal is None:
        return list(_ANONYMOUS_NAV)
    return list(_NAV_BY_ROLE[principal.role])


def current_nav(nav: list[tuple[str, str]], path: str) -> str | None:
    """The nav entry a path belongs to: the longest url that prefixes it."""
    matches = [url for _, url in nav if path == url or path.startswith(url.rstrip("/") + "/")]
    return max(matches, key=len, default=None)


def is_htmx(request: Request) -> bool:
    """Whether the request was sent by htmx (and wants a fragment, not a page)."""
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render the full page, or only one block when htmx asks for a part of it."""
    principal: Principal | None = getattr(request.state, "principal", None)
    nav = nav_for(principal)
    full_context: dict[str, Any] = {
        "request": request,
        "principal": principal,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "reader": reader_of(request),
        "nav": nav,
        "current_nav": current_nav(nav, request.url.path),
        **(context or {}),
    }
    templates = get_templates()
    block_name = _requested_block(request, template, block)
    response_headers = {"Vary": "HX-Request, HX-Target", **(headers or {})}
    if block_name is None:
        full_context.setdefault("flash_message", flash_message(request))
        response = templates.TemplateResponse(
            request, template, full_context, status_code=status_code, headers=response_headers
        )
        pop_flash(request, response)
        return response
    return templates.TemplateResponse(
        request,
        template,
        full_context,
        status_code=status_code,
        headers=response_headers,
        block_name=block_name,
    )


def _requested_block(request: Request, template: str, block: str | None) -> str | None:
    # Boosted navigation and history restores replace the whole page, so they need all of it.
    if (
        not is_htmx(request)
        or request.headers.get("hx-boosted") == "true"
        or request.headers.get("hx-history-restore-request") == "true"
    ):
        return None
    if block is not None:
        return block
    target = request.headers.get("hx-target")
    if target and target in get_templates().get_template(template).blocks:
        return target
    return None
