"""The composition root: the FastAPI app with the web shell and every package's router."""

from __future__ import annotations

import hmac
import importlib
import importlib.util
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.auth.principal import Principal
from core.auth.roles import Role
from core.config import ConfigError, get_settings
from core.db import get_sessionmaker
from core.errors import PermissionDenied
from core.formatting import set_reader_source
from core.web.body_limit import DEFAULT_MAX_BODY, TooLargeInWords
from core.web.csrf import CSRFMiddleware
from core.web.deps import get_principal, require_login
from core.web.errors import LoginRequired, install_error_handlers
from core.web.security_headers import SecurityHeadersMiddleware
from core.web.static import mount_static
from core.web.templating import render
from crm.preferences import reader_of_principal
from fieldcrm.models import load_all_models
from ledger.metrics import register_ledger_metrics
from telemetry.metrics import register_telemetry_metrics

logger = logging.getLogger(__name__)

ROUTER_MODULES: tuple[str, ...] = (
    "core.auth.views",
    "crm.routes",
    "crm.views",
    "telemetry.routes",
    "telemetry.views",
    "service_orders.routes",
    "service_orders.views",
    "service_orders.certificate_views",
    "ledger.routes",
    "ledger.views",
    "crm.notification_views",
    "crm.preference_views",
    "partner_portal.routes",
    "partner_portal.views",
    "partner_portal.staff_views",
    "partner_portal.library_views",
    "partner_portal.inquiry_views",
    "partner_portal.approval_views",
    "partner_portal.contract_views",
    "customer_app.routes",
    "customer_app.views",
    "customer_app.staff_views",
)
"""Modules whose `router` is included when the module exists; missing ones are skipped."""

ops_router = APIRouter(tags=["operations"])
LoggedIn = Annotated[Principal, Depends(require_login)]


@ops_router.get("/healthz")
def healthz() -> JSONResponse:
    """Liveness with a database round trip; 503 names the failing part."""
    try:
        with get_sessionmaker()() as session:
            session.execute(text("SELECT 1"))
    except (SQLAlchemyError, ConfigError) as exc:
        logger.warning("Health check: database unreachable: %s", exc)
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable ({type(exc).__name__})"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@ops_router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus metrics for a scraper holding FIELDCRM_METRICS_TOKEN, and administrators."""
    if not _holds_metrics_token(request):
        # Resolved here, not as a dependency, so a scraper with the token never touches the
        # database.
        with get_sessionmaker()() as session:
            principal = get_principal(request, session)
        if principal is None:
            raise LoginRequired
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("Metrics are for administrators only.")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _holds_metrics_token(request: Request) -> bool:
    token = get_settings().metrics_token
    if token is None or not token.get_secret_value():
        return False
    given = request.headers.get("authorization", "").encode()
    return hmac.compare_digest(given, f"Bearer {token.get_secret_value()}".encode())


@ops_router.get("/docs", include_in_schema=False)
def docs(request: Request, principal: LoggedIn) -> Response:
    """Swagger UI for the JSON API, from the pinned npm package (no CDN, no inline script);
    for people with an account, as the API it describes."""
    return render(request, "core/docs.html")


@ops_router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, principal: LoggedIn) -> JSONResponse:
    """The API's description, for people with an account."""
    return JSONResponse(request.app.openapi())


def create_app() -> FastAPI:
    """Build the web app: middleware, error handlers, static files and all routers."""
    load_all_models()  # every mapper configured: one package's FK may name another's table
    app = FastAPI(title="fieldcrm", docs_url=None, redoc_url=None, openapi_url=None)
    # Added last = outermost: CSRF refusals get the security headers too.
    app.add_middleware(TooLargeInWords)
    app.add_middleware(CSRFMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    install_error_handlers(app)
    set_reader_source(reader_of_principal)
    mount_static(app)
    app.include_router(ops_router, max_body_size=DEFAULT_MAX_BODY)
    register_telemetry_metrics()
    register_ledger_metrics()
    for module_name in ROUTER_MODULES:
        if importlib.util.find_spec(module_name) is None:
            continue
        # every body is capped: 1 MB unless the route names its own (core/web/body_limit.py)
        router = importlib.import_module(module_name).router
        app.include_router(router, max_body_size=DEFAULT_MAX_BODY)
    return app
