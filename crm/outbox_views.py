"""/dev/outbox: the e-mails a development or test installation without SMTP kept instead of
sending (reset links, invitations), for anyone who can reach it, as the person who asked for
a reset is logged out; a 404 in production or whenever SMTP is configured."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.config import get_settings
from core.db import SessionDep
from core.errors import NotFound
from core.web.templating import render
from crm.outbox import outbox, outbox_enabled

router = APIRouter(include_in_schema=False)


@router.get("/dev/outbox", name="dev_outbox")
def outbox_page(request: Request, session: SessionDep, to: str | None = None) -> Response:
    settings = get_settings()
    if not outbox_enabled(settings):
        raise NotFound("There is no page at this address.", entity="page")
    messages = outbox(session, recipient=to)
    return render(
        request,
        "crm/outbox.html",
        {"messages": messages, "to": to or "", "link_prefix": settings.resolved_public_url()},
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
