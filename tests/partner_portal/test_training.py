"""Training videos: who sees them, progress and completion per user and per distributor."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.errors import NotFound, PermissionDenied
from partner_portal import training
from tests.partner_portal.library_factories import (
    colleague,
    make_partner,
    make_staff,
    make_video,
    upload_dir,  # noqa: F401  # fixture
)

pytestmark = pytest.mark.usefixtures("upload_dir")


def test_videos_follow_the_same_audience_rule_as_documents(db: Session) -> None:
    staff = make_staff(db)
    gold, silver = make_partner(db, tier="gold"), make_partner(db, tier="silver")
    make_video(db, staff, title="Everyone")
    make_video(db, staff, title="Gold only", tiers=["gold"])
    make_video(db, staff, title="For silver's distributor", distributors=[silver.org])

    def titles(principal: Principal) -> list[str]:
        rows = training.visible_videos(db, actor=principal)
        return sorted(row.video.title for row in rows)

    assert titles(gold.principal) == ["Everyone", "Gold only"]
    assert titles(silver.principal) == ["Everyone", "For silver's distributor"]


def test_progress_is_kept_and_completion_comes_at_95_percent(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    video = make_video(db, staff, duration_s=600)

    halfway = training.record_progress(
        db, actor=partner.principal, video_id=video.id, position_s=300
    )
    assert (halfway.position_s, halfway.completed_at) == (300, None)

    almost = training.record_progress(
        db, actor=partner.principal, video_id=video.id, position_s=569
    )
    assert almost.completed_at is None
    done = training.record_progress(db, actor=partner.principal, video_id=video.id, position_s=570)
    assert done.completed_at is not None


def test_the_players_ended_event_completes_a_video_of_unknown_duration(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    video = make_video(db, staff, duration_s=None)

    progress = training.record_progress(
        db, actor=partner.principal, video_id=video.id, position_s=10_000
    )
    assert progress.completed_at is None
    ended = training.record_progress(
        db, actor=partner.principal, video_id=video.id, position_s=10_000, completed=True
    )
    assert ended.completed_at is not None


def test_rewatching_keeps_the_completion_and_clamps_the_position(db: Session) -> None:
    staff = make_staff(db)
    partner = make_partner(db)
    video = make_video(db, staff, duration_s=100)
    done = training.record_progress(db, actor=partner.principal, video_id=video.id, position_s=999)
    completed_at = done.completed_at
    assert done.position_s == 100

    again = training.record_progress(db, actor=partner.principal, video_id=video.id, position_s=5)
    assert (again.position_s, again.completed_at) == (5, completed_at)
    [row] = training.completed_videos(db, actor=partner.principal)
    assert row.video.id == video.id


def test_progress_on_a_video_not_for_the_partner_is_not_found(db: Session) -> None:
    staff = make_staff(db)
    a, b = make_partner(db), make_partner(db)
    video = make_video(db, staff, distributors=[a.org])
    with pytest.raises(NotFound):
        training.record_progress(db, actor=b.principal, video_id=video.id, position_s=1)


def test_staff_see_completion_per_distributor(db: Session) -> None:
    staff = make_staff(db)
    a, b = make_partner(db), make_partner(db)
    video = make_video(db, staff, duration_s=100)
    training.record_progress(db, actor=a.principal, video_id=video.id, position_s=100)
    training.record_progress(db, actor=colleague(db, a), video_id=video.id, position_s=10)
    training.record_progress(db, actor=b.principal, video_id=video.id, position_s=96)

    stats = training.completion_by_distributor(db, actor=staff)
    by_org = {row.distributor: (row.started, row.completed) for row in stats}
    assert by_org == {a.org.name: (2, 1), b.org.name: (1, 1)}
    with pytest.raises(PermissionDenied):
        training.completion_by_distributor(db, actor=a.principal)
