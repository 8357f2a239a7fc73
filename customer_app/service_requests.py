"""A customer asks for service on one of their devices, with photos of the problem."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.auth.roles import Role
from core.errors import InvalidInput, PermissionDenied
from crm.service import get_asset
from service_orders.models import WorkOrder, WorkOrderPhoto, WorkOrderSource, WorkOrderType
from service_orders.photos import MAX_PHOTO_BYTES, sniff_image
from service_orders.schemas import WorkOrderCreate
from service_orders.workorders import create_work_order

MAX_PHOTOS = 5
# what the customer says -> work-order priority; 1 (critical) is for dispatchers and alerts
PRIORITY_HINTS: dict[str, tuple[int, str]] = {
    "stopped": (2, "The machine has stopped"),
    "degraded": (3, "It works, but not as it should"),
    "routine": (4, "Routine check, no hurry"),
}


@dataclass(frozen=True, slots=True)
class CheckedPhoto:
    """Photo bytes whose size and type were checked."""

    data: bytes
    content_type: str
    extension: str


def check_photo(data: bytes) -> CheckedPhoto:
    """The photo if it is a JPEG, PNG or WebP of at most MAX_PHOTO_BYTES."""
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInput(
            f"A photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MiB; send a smaller one.",
            code="photo_too_large",
            field="photos",
        )
    kind = sniff_image(data[:16])
    if kind is None:
        raise InvalidInput(
            "Only JPEG, PNG or WebP photos can be sent.", code="photo_type", field="photos"
        )
    return CheckedPhoto(data, *kind)


def request_service(
    session: Session,
    *,
    actor: Principal,
    asset_id: int,
    description: str,
    priority_hint: str,
    photos: Sequence[bytes],
    directory: Path,
) -> WorkOrder:
    """A corrective work order of source customer request on one of the actor's devices."""
    if actor.role != Role.CUSTOMER:
        raise PermissionDenied("Service is requested by the customer who owns the device.")
    asset = get_asset(session, principal=actor, asset_id=asset_id)
    text = description.strip()
    if not 10 <= len(text) <= 5000:
        raise InvalidInput("Describe the problem in 10 to 5000 characters.", field="description")
    if priority_hint not in PRIORITY_HINTS:
        raise InvalidInput("Choose how urgent it is.", field="priority")
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"Send at most {MAX_PHOTOS} photos.", field="photos")
    checked = [check_photo(data) for data in photos]
    priority, urgency = PRIORITY_HINTS[priority_hint]
    first_line = text.splitlines()[0][:120]
    work_order = create_work_order(
        session,
        actor=actor,
        data=WorkOrderCreate(
            type=WorkOrderType.CORRECTIVE,
            source=WorkOrderSource.CUSTOMER_REQUEST,
            asset_id=asset.id,
            priority=priority,
            title=f"Service request {asset.serial}: {first_line}"[:200],
            description=f"{urgency}.\n\n{text}",
        ),
    )
    for photo in checked:
        _store_photo(session, actor=actor, work_order=work_order, photo=photo, directory=directory)
    session.flush()
    return work_order


def _store_photo(
    session: Session,
    *,
    actor: Principal,
    work_order: WorkOrder,
    photo: CheckedPhoto,
    directory: Path,
) -> WorkOrderPhoto:
    name = f"{secrets.token_urlsafe(24)}{photo.extension}"
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{name}.part"
    partial.write_bytes(photo.data)
    os.replace(partial, directory / name)  # never a half-written file under its real name
    record = WorkOrderPhoto(
        work_order_id=work_order.id,
        stored_name=name,
        content_type=photo.content_type,
        size=len(photo.data),
        uploaded_by=actor.user_id,
    )
    session.add(record)
    return record
