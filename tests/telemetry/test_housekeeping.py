"""Last-seen marks and retention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth.principal import SYSTEM
from core.db import utcnow
from telemetry.devices import provision_device
from telemetry.housekeeping import apply_retention, mark_last_seen
from telemetry.models import DeadLetter, Device, Reading, RollupMinute
from tests.crm.factories import make_asset, make_org


def _device(db: Session) -> Device:
    asset = make_asset(db, owner=make_org(db))
    return provision_device(db, actor=SYSTEM, asset_id=asset.id).device


def test_last_seen_follows_the_newest_rollup(db: Session) -> None:
    device = _device(db)
    seen = utcnow() - timedelta(seconds=30)
    db.add(
        RollupMinute(
            device_id=device.id,
            position=0,
            bucket=seen.replace(second=0),
            n=1,
            total=1.0,
            low=1.0,
            high=1.0,
            last_ts=seen,
            last=1.0,
        )
    )
    db.flush()
    assert mark_last_seen(db) == 1
    db.refresh(device)
    assert device.last_seen_at == seen


def test_retention_drops_old_chunks_and_keeps_recent_readings(db: Session) -> None:
    device = _device(db)
    now = utcnow()
    for age_days, seq in ((200, 1), (1, 2)):
        db.add(
            Reading(
                device_id=device.id,
                ts=now - timedelta(days=age_days),
                seq=seq,
                received_at=now,
                values=[1.0],
            )
        )
    db.add(
        DeadLetter(
            topic="t",
            device_key=None,
            reason="malformed_json",
            detail="",
            payload=b"",
            payload_size=0,
            received_at=now - timedelta(days=40),
        )
    )
    db.flush()
    dropped = apply_retention(db, raw_days=90)
    assert dropped["readings"] >= 1
    assert dropped["dead_letters"] == 1
    assert db.scalars(select(Reading.seq).where(Reading.device_id == device.id)).all() == [2]
    assert db.scalar(select(func.count()).select_from(DeadLetter)) == 0
