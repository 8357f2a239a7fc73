"""The engineer's phone page: today's jobs, offers to answer, status buttons, live updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from core.auth.roles import Role
from core.db import SessionDep, utcnow
from core.errors import PermissionDenied
from core.web.deps import get_principal
from core.web.errors import LoginRequired
from core.web.templating import is_htmx, render
from service_orders.dispatch import accept_offer, decline_offer
from service_orders.engineers import engineer_for_user
from service_orders.models import Engineer
from service_orders.queries import Job, countdown, day_fingerprint, engineer_day, offer_clock
from service_orders.web import CurrentEngineer, EngineerPrincipal, OfferPublisher
from telemetry.web import OpenSession, SessionOpener

router = APIRouter()

DAY_TEMPLATE = "service_orders/engineer.html"
LIVE_INTERVAL_SECONDS = 5.0
# A stream ends after ~5 minutes; EventSource reconnects, which re-checks the login.
LIVE_TICKS = 60


def day_context(session: Session, engineer: Engineer) -> dict[str, Any]:
    """What the day page and its `jobs` block need."""
    jobs = engineer_day(session, engineer_id=engineer.id)
    return {
        "jobs": jobs,
        "fingerprint": day_fingerprint(jobs),
        "now": utcnow(),
        "countdown": countdown,
        "offer_clock": offer_clock,
        "maps_url": maps_url,
    }


def maps_url(job: Job) -> str:
    """A map link any phone opens in its navigation app (the geo: link sits next to it)."""
    return f"https://www.openstreetmap.org/?mlat={job.place.lat}&mlon={job.place.lon}#map=17/{job.place.lat}/{job.place.lon}"


@router.get("/engineer", name="engineer_day")
def day(request: Request, session: SessionDep, principal: EngineerPrincipal) -> Response:
    """The engineer's home; a user not yet set up as an engineer gets a notice, not an error."""
    engineer = engineer_for_user(session, user_id=principal.user_id)
    if engineer is None:
        return render(request, DAY_TEMPLATE, {"not_set_up": True, "jobs": []})
    return render(request, DAY_TEMPLATE, day_context(session, engineer))


@router.post("/engineer/offers/{offer_id}/accept", name="engineer_accept")
def accept(
    offer_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
) -> Response:
    accept_offer(session, actor=principal, offer_id=offer_id)
    return after_day_change(request, session, engineer)


@router.post("/engineer/offers/{offer_id}/decline", name="engineer_decline")
def decline(
    offer_id: int,
    request: Request,
    session: SessionDep,
    principal: EngineerPrincipal,
    engineer: CurrentEngineer,
    publish: OfferPublisher,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    decline_offer(session, actor=principal, offer_id=offer_id, reason=reason)
    session.commit()
    publish(session)  # the next engineer's offer leaves only after the commit
    return after_day_change(request, session, engineer)


@router.get("/engineer/live", name="engineer_live")
async def live(request: Request, sessions: SessionOpener) -> Response:
    """Server-sent events: a fingerprint of the day; the page reloads its list when it changes."""
    # No request-scoped session: it would hold a connection for the whole stream.
    engineer_id = await run_in_threadpool(_engineer_of, request, sessions)
    first = await run_in_threadpool(_fingerprint, sessions, engineer_id)

    async def events() -> AsyncIterator[str]:
        yield f"retry: 5000\n\nevent: jobs\ndata: {first}\n\n"
        last = first
        for _ in range(LIVE_TICKS - 1):
            await asyncio.sleep(LIVE_INTERVAL_SECONDS)
            if await request.is_disconnected():
                return
            current = await run_in_threadpool(_fingerprint, sessions, engineer_id)
            if current != last:
                last = current
                yield f"event: jobs\ndata: {current}\n\n"
            else:
                yield ": still here\n\n"  # keeps proxies from closing an idle stream

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def after_day_change(request: Request, session: Session, engineer: Engineer) -> Response:
    """The refreshed list for htmx, or back to the page after a plain form post."""
    if not is_htmx(request):
        return RedirectResponse("/engineer", status_code=303)
    return render(request, DAY_TEMPLATE, day_context(session, engineer), block="jobs")


def _engineer_of(request: Request, sessions: OpenSession) -> int:
    with sessions() as session:
        principal = get_principal(request, session)
        session.commit()  # keeps the session's last-seen touch
        if principal is None:
            raise LoginRequired
        if principal.role != Role.ENGINEER:
            raise PermissionDenied("This page is for service engineers only.")
        engineer = engineer_for_user(session, user_id=principal.user_id)
        if engineer is None:
            raise PermissionDenied("Your account is not set up as a service engineer yet.")
        return engineer.id


def _fingerprint(sessions: OpenSession, engineer_id: int) -> str:
    with sessions() as session:
        return day_fingerprint(engineer_day(session, engineer_id=engineer_id))
