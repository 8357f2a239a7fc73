"""Pages of training: partners watch videos (streamed with HTTP ranges) and their progress is
recorded; staff upload videos and see completion per distributor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response

from core.config import get_settings
from core.db import SessionDep
from core.formatting import reader_of
from core.web.body_limit import ONE_FILE, MiB
from core.web.deps import StaffPrincipal
from core.web.templating import render
from partner_portal import library, training
from partner_portal.library_web import (
    DistributorPrincipal,
    ListForm,
    TextForm,
    audience_choices,
    audience_fields,
    form_datetime,
    parse_form,
    see_other,
    with_upload,
)
from partner_portal.uploads import UploadKind, stored_path

router = APIRouter(include_in_schema=False)


@router.get("/portal/training", name="portal_training")
def training_page(
    request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    rows = training.visible_videos(session, actor=principal)
    return render(request, "partner_portal/library/training.html", {"rows": rows})


@router.get("/portal/training/{video_id}", name="portal_video")
def video_page(
    video_id: int, request: Request, session: SessionDep, principal: DistributorPrincipal
) -> Response:
    row = training.get_visible_video(session, actor=principal, video_id=video_id)
    return render(request, "partner_portal/library/video.html", {"row": row})


@router.get("/portal/training/{video_id}/stream", name="portal_video_stream")
def stream(video_id: int, session: SessionDep, principal: DistributorPrincipal) -> Response:
    """The video file; Range requests get 206 with exactly the bytes asked for, from disk."""
    video = training.get_visible_video(session, actor=principal, video_id=video_id).video
    path = stored_path(UploadKind.VIDEOS, video.storage_name)
    # FileResponse answers Range (206, Content-Range), refuses unsatisfiable ones (416)
    # and sends the file in 64 KiB chunks
    return FileResponse(
        path,
        media_type=video.content_type,
        headers={
            "Accept-Ranges": "bytes",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
        content_disposition_type="inline",
    )


@router.post("/portal/training/{video_id}/progress", name="portal_video_progress")
def progress(
    video_id: int,
    session: SessionDep,
    principal: DistributorPrincipal,
    position_s: Annotated[int, Form(ge=0, le=86_400)],
    completed: Annotated[bool, Form()] = False,
) -> Response:
    """Posted by the player (static/training.js): every few seconds, on pause and on end."""
    training.record_progress(
        session, actor=principal, video_id=video_id, position_s=position_s, completed=completed
    )
    session.commit()
    return Response(status_code=204)


@router.get("/staff/partners/training", name="staff_training")
def staff_training_page(
    request: Request, session: SessionDep, principal: StaffPrincipal
) -> Response:
    context = {
        "videos": training.all_videos(session, actor=principal),
        "completion": training.completion_by_distributor(session, actor=principal),
        **audience_choices(session),
    }
    return render(request, "partner_portal/library/staff_training.html", context)


@router.post(
    "/staff/partners/training",
    name="staff_upload_video",
    max_body_size=get_settings().video_max_bytes + MiB,
    form_limits=ONE_FILE,
)
def upload_video(
    request: Request,
    session: SessionDep,
    principal: StaffPrincipal,
    file: Annotated[UploadFile, File()],
    title: TextForm = "",
    description: TextForm = "",
    product_family: TextForm = "",
    duration_s: TextForm = "",
    publish_at: TextForm = "",
    audience_tiers: ListForm = None,
    audience_regions: TextForm = "",
    audience_distributor_ids: ListForm = None,
) -> Response:
    """A new training video (multipart, sent by htmx with the CSRF header)."""
    library.require_library_manager(session, principal)
    data = parse_form(
        training.VideoIn,
        title=title, description=description, product_family=product_family or None,
        duration_s=duration_s.strip() or None,
        publish_at=form_datetime(publish_at, "publish_at", reader_of(request).zone),
        **audience_fields(audience_tiers, audience_regions, audience_distributor_ids),
    )  # fmt: skip
    with_upload(
        session,
        file,
        UploadKind.VIDEOS,
        lambda upload: training.upload_video(session, actor=principal, data=data, upload=upload),
    )
    return see_other(request, "/staff/partners/training")
