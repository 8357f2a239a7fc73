"""The notification inbox of every logged-in user, and the unread badge in the header."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from core.db import SessionDep
from core.web.deps import CurrentPrincipal
from core.web.templating import is_htmx, render
from crm.notifications import list_for, mark_read, unread_count

router = APIRouter(include_in_schema=False)

INBOX = "crm/notifications/inbox.html"


@router.get("/notifications", name="notifications")
def inbox(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    notifications = list_for(session, user_id=principal.user_id)
    return render(
        request,
        INBOX,
        {
            "notifications": notifications,
            "unread": sum(1 for n in notifications if n.read_at is None),
        },
    )


@router.get("/notifications/badge", name="notifications_badge")
def badge(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """The unread count for the header (htmx polls it)."""
    count = unread_count(session, user_id=principal.user_id)
    return render(request, "crm/notifications/_badge.html", {"count": count})


@router.post("/notifications/read", name="notifications_read_all")
def read_all(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    mark_read(session, user_id=principal.user_id)
    return _back_to_inbox(request, session, principal.user_id)


@router.post("/notifications/{notification_id}/read", name="notification_read")
def read_one(
    notification_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    mark_read(session, user_id=principal.user_id, notification_id=notification_id)
    return _back_to_inbox(request, session, principal.user_id)


def _back_to_inbox(request: Request, session: SessionDep, user_id: int) -> Response:
    if not is_htmx(request):
        return RedirectResponse("/notifications", status_code=303)
    notifications = list_for(session, user_id=user_id)
    context = {
        "notifications": notifications,
        "unread": sum(1 for n in notifications if n.read_at is None),
    }
    return render(
        request, INBOX, context, block="inbox", headers={"HX-Trigger": "notifications-read"}
    )
