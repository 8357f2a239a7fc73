"""Training videos: staff upload them, partners watch them in the browser; progress and
completion per user, completion per distributor for staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import Field
from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.db import utcnow
from core.errors import NotFound
from crm.audit import CREATE, record_change, snapshot
from crm.models import Organization
from partner_portal.library import AudienceIn, audience_admits, require_library_manager, viewer_of
from partner_portal.models import TrainingProgress, TrainingVideo
from partner_portal.uploads import StoredUpload

COMPLETION_SHARE = 0.95
"""Watching this share of a video's duration counts as having completed it."""

_VIDEO_FIELDS = ("title", "product_family", "duration_s", "publish_at", "storage_name", "sha256")


class VideoIn(AudienceIn):
    """A training video's metadata as staff enter it."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    product_family: str | None = Field(default=None, max_length=64)
    duration_s: int | None = Field(default=None, gt=0)
    publish_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VideoRow:
    """A video as a partner sees it: how far they watched, whether they completed it."""

    video: TrainingVideo
    position_s: int
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DistributorCompletion:
    """How many users of one distributor started and completed one video."""

    video_id: int
    video_title: str
    distributor: str
    started: int
    completed: int


def upload_video(
    session: Session, *, actor: Principal, data: VideoIn, upload: StoredUpload
) -> TrainingVideo:
    """Publish a training video (administrators and channel managers)."""
    require_library_manager(session, actor)
    video = TrainingVideo(
        **data.model_dump(exclude={"publish_at", "product_family"}),
        product_family=(data.product_family or "").strip() or None,
        publish_at=data.publish_at or utcnow(),
        storage_name=upload.storage_name,
        original_filename=upload.original_filename,
        content_type=upload.content_type,
        size_bytes=upload.size_bytes,
        sha256=upload.sha256,
        created_by=actor.user_id,
    )
    session.add(video)
    session.flush()
    record_change(
        session, actor=actor, action=CREATE, entity="training_videos", entity_id=video.id,
        before=None, after=snapshot(video, _VIDEO_FIELDS),
    )  # fmt: skip
    return video


def visible_videos(session: Session, *, actor: Principal) -> list[VideoRow]:
    """The published videos the partner may see, with their own progress."""
    return _visible(session, actor=actor)


def get_visible_video(session: Session, *, actor: Principal, video_id: int) -> VideoRow:
    """One video the partner may see; NotFound for any other (never revealing it exists)."""
    for row in _visible(session, actor=actor, video_id=video_id):
        return row
    raise NotFound(f"No training video {video_id}.", entity="training_videos")


def _visible(session: Session, *, actor: Principal, video_id: int | None = None) -> list[VideoRow]:
    viewer = viewer_of(session, actor)
    statement = (
        select(TrainingVideo, TrainingProgress.position_s, TrainingProgress.completed_at)
        .outerjoin(
            TrainingProgress,
            (TrainingProgress.video_id == TrainingVideo.id)
            & (TrainingProgress.user_id == viewer.user_id),
        )
        .where(TrainingVideo.publish_at <= utcnow(), audience_admits(TrainingVideo, viewer))
        .order_by(TrainingVideo.publish_at.desc(), TrainingVideo.id.desc())
    )
    if video_id is not None:
        statement = statement.where(TrainingVideo.id == video_id)
    rows = session.execute(statement)
    return [VideoRow(video, position or 0, completed) for video, position, completed in rows]


def record_progress(
    session: Session,
    *,
    actor: Principal,
    video_id: int,
    position_s: int,
    completed: bool = False,
) -> TrainingProgress:
    """Where the user is in the video; completed at 95 % of it or when the player ended.
    Completion is never taken back by a later, earlier position (re-watching)."""
    video = get_visible_video(session, actor=actor, video_id=video_id).video
    duration = video.duration_s
    position = max(0, min(position_s, duration) if duration else position_s)
    reached_end = completed or (duration is not None and position >= COMPLETION_SHARE * duration)
    now = utcnow()
    table = TrainingProgress.__table__
    statement = insert(TrainingProgress).values(
        video_id=video.id,
        user_id=actor.user_id,
        org_id=actor.org_id,
        position_s=position,
        completed_at=now if reached_end else None,
        updated_at=now,
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["video_id", "user_id"],
            set_={
                "position_s": statement.excluded.position_s,
                "updated_at": statement.excluded.updated_at,
                "completed_at": func.coalesce(
                    table.c.completed_at, statement.excluded.completed_at
                ),
            },
        )
    )
    session.flush()
    progress = session.get(TrainingProgress, (video.id, actor.user_id), populate_existing=True)
    assert progress is not None  # just written
    return progress


def completed_videos(session: Session, *, actor: Principal) -> list[VideoRow]:
    """The videos the partner user completed, most recent first."""
    rows = [row for row in visible_videos(session, actor=actor) if row.completed_at is not None]
    return sorted(rows, key=lambda row: row.completed_at or utcnow(), reverse=True)


def all_videos(session: Session, *, actor: Principal) -> Sequence[TrainingVideo]:
    """Every video, newest first, for the staff page."""
    require_library_manager(session, actor)
    return session.scalars(select(TrainingVideo).order_by(TrainingVideo.id.desc())).all()


def completion_by_distributor(session: Session, *, actor: Principal) -> list[DistributorCompletion]:
    """Per video and distributor: users who started it and users who completed it."""
    require_library_manager(session, actor)
    completed = func.count(case((TrainingProgress.completed_at.is_not(None), 1)))
    rows = session.execute(
        select(
            TrainingVideo.id,
            TrainingVideo.title,
            Organization.name,
            func.count(TrainingProgress.user_id),
            completed,
        )
        .join(TrainingProgress, TrainingProgress.video_id == TrainingVideo.id)
        .join(Organization, Organization.id == TrainingProgress.org_id)
        .group_by(TrainingVideo.id, TrainingVideo.title, Organization.id, Organization.name)
        .order_by(TrainingVideo.id.desc(), Organization.name)
    ).all()
    return [DistributorCompletion(*row) for row in rows]
