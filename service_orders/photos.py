"""Photos taken on site: size and type checked by their bytes, stored under a name we make."""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from core.auth.principal import Principal
from core.config import Settings
from core.errors import InvalidInput, NotFound, PermissionDenied
from service_orders.engineers import engineer_for_user
from service_orders.models import WorkOrderPhoto
from service_orders.states import FINISHED
from service_orders.workorders import get_work_order

MAX_PHOTO_BYTES = 8 * 1024 * 1024
THUMBNAIL_PX = 200  # side of the square thumbnail; pages draw it at half that
# what the file starts with decides its type; the name and Content-Type sent are ignored
_KINDS = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def photo_directory(settings: Settings) -> Path:
    """Where work-order photos are kept: var/uploads/work_orders."""
    return settings.var_dir / "uploads" / "work_orders"


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG or WebP by its magic bytes, else None."""
    for magic, content_type, extension in _KINDS:
        if head.startswith(magic):
            return content_type, extension
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def add_photo(
    session: Session, *, actor: Principal, work_order_id: int, data: bytes, directory: Path
) -> WorkOrderPhoto:
    """Store a photo of an open work order (the engineer on the job, or staff)."""
    work_order = get_work_order(session, principal=actor, work_order_id=work_order_id)
    if not actor.is_staff:
        engineer = engineer_for_user(session, user_id=actor.user_id)
        if engineer is None or engineer.id != work_order.engineer_id:
            raise PermissionDenied("Only the engineer on the job can add photos.")
    if work_order.status in FINISHED:
        raise InvalidInput(f"Work order {work_order.number} is {work_order.status}.")
    if len(data) > MAX_PHOTO_BYTES:
        raise InvalidInput(
            f"The photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MiB.",
            code="photo_too_large",
            field="photo",
        )
    kind = sniff_image(data[:16])
    if kind is None:
        raise InvalidInput(
            "Only JPEG, PNG or WebP photos can be uploaded.", code="photo_type", field="photo"
        )
    content_type, extension = kind
    name = f"{secrets.token_urlsafe(24)}{extension}"
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{name}.part"
    partial.write_bytes(data)
    os.replace(partial, directory / name)  # never a half-written file under its real name
    photo = WorkOrderPhoto(
        work_order_id=work_order.id,
        stored_name=name,
        content_type=content_type,
        size=len(data),
        uploaded_by=actor.user_id,
    )
    session.add(photo)
    session.flush()
    return photo


def photo_file(
    session: Session, *, principal: Principal, photo_id: int, directory: Path
) -> tuple[WorkOrderPhoto, Path]:
    """A photo and its file, for whoever may see its work order; NotFound otherwise."""
    photo = session.get(WorkOrderPhoto, photo_id)
    if photo is None:
        raise NotFound(f"No photo {photo_id}.", entity="work_order_photos")
    get_work_order(session, principal=principal, work_order_id=photo.work_order_id)
    path = directory / photo.stored_name
    if not path.is_file():
        raise NotFound(f"The file of photo {photo_id} is gone.", entity="work_order_photos")
    return photo, path


def photo_thumbnail(
    session: Session, *, principal: Principal, photo_id: int, directory: Path
) -> Path:
    """A small square JPEG of a photo, for whoever may see the photo; made on first request
    and kept under thumbs/ beside the photos (a photo never changes, so neither does it)."""
    photo, path = photo_file(session, principal=principal, photo_id=photo_id, directory=directory)
    thumbnail = directory / "thumbs" / f"{Path(photo.stored_name).stem}.jpg"
    if not thumbnail.is_file():
        data = _thumbnail_bytes(path)
        if data is None:
            raise NotFound(f"Photo {photo_id} cannot be read.", entity="work_order_photos")
        thumbnail.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own per writer: two first requests at once both end with a whole file
        partial = thumbnail.with_name(f".{thumbnail.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(data)
        os.replace(partial, thumbnail)
    return thumbnail


def _thumbnail_bytes(path: Path) -> bytes | None:
    try:
        with Image.open(path) as image:
            image.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))  # JPEG: decode at a smaller scale
            upright = ImageOps.exif_transpose(image)  # as the phone held it
            square = ImageOps.fit(upright.convert("RGB"), (THUMBNAIL_PX, THUMBNAIL_PX))
            out = io.BytesIO()
            square.save(out, format="JPEG", quality=80)
            return out.getvalue()
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        return None
