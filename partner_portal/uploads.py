"""Uploaded files kept on disk: size and type checked by their bytes, stored under a name we
make, written atomically. The client's file name is only ever shown, never used as a path."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from core.config import get_settings
from core.errors import InvalidInput, NotFound

_CHUNK = 1024 * 1024
_HEAD = 4096
_STORAGE_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{2,4}$")


class UploadKind(StrEnum):
    """What an upload is for; also the sub-directory it is stored in."""

    DOCUMENTS = "documents"
    VIDEOS = "videos"


class UploadRefused(InvalidInput):
    """The file was not stored; `status` is the HTTP status that says why (413 or 415)."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message, code=code, field="file")
        self.status = status


@dataclass(frozen=True, slots=True)
class FileType:
    content_type: str
    matches: Callable[[bytes], bool]


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """A file now on disk under `storage_name`, with what the database keeps about it."""

    storage_name: str
    original_filename: str
    content_type: str
    size_bytes: int
    sha256: str


def _starts(magic: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(magic)


def _is_text(head: bytes) -> bool:
    # text has no NUL bytes; a multi-byte character cut at the end of the head is fine
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3
    return True


def _is_mp4(head: bytes) -> bool:
    return head[4:8] == b"ftyp"


_ZIP = _starts(b"PK\x03\x04")
_OFFICE = "application/vnd.openxmlformats-officedocument"
_TYPES: dict[UploadKind, dict[str, FileType]] = {
    UploadKind.DOCUMENTS: {
        "pdf": FileType("application/pdf", _starts(b"%PDF-")),
        "png": FileType("image/png", _starts(b"\x89PNG\r\n\x1a\n")),
        "jpg": FileType("image/jpeg", _starts(b"\xff\xd8\xff")),
        "jpeg": FileType("image/jpeg", _starts(b"\xff\xd8\xff")),
        "docx": FileType(f"{_OFFICE}.wordprocessingml.document", _ZIP),
        "xlsx": FileType(f"{_OFFICE}.spreadsheetml.sheet", _ZIP),
        "pptx": FileType(f"{_OFFICE}.presentationml.presentation", _ZIP),
        "txt": FileType("text/plain; charset=utf-8", _is_text),
        "csv": FileType("text/csv; charset=utf-8", _is_text),
    },
    UploadKind.VIDEOS: {
        "mp4": FileType("video/mp4", _is_mp4),
        "webm": FileType("video/webm", _starts(b"\x1a\x45\xdf\xa3")),
    },
}


def allowed_extensions(kind: UploadKind) -> list[str]:
    """The file extensions accepted for this kind of upload, for the form's hint."""
    return sorted(_TYPES[kind])


def max_bytes(kind: UploadKind) -> int:
    settings = get_settings()
    return settings.video_max_bytes if kind is UploadKind.VIDEOS else settings.upload_max_bytes


def upload_directory(kind: UploadKind) -> Path:
    return get_settings().resolved_upload_dir() / kind.value


def store_upload(source: BinaryIO, *, kind: UploadKind, original_filename: str) -> StoredUpload:
    """Check and copy an uploaded file to the upload directory; UploadRefused if not allowed."""
    name = _display_name(original_filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    file_type = _TYPES[kind].get(extension)
    if file_type is None:
        raise _wrong_type(kind, f"Files ending in .{extension}" if extension else "Files")
    limit = max_bytes(kind)
    directory = upload_directory(kind)
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, partial = tempfile.mkstemp(dir=directory, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as target:
            head = source.read(_HEAD)
            if not file_type.matches(head):
                raise _wrong_type(kind, f"This file's content is not .{extension}, so it")
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(
                        f"The file is larger than {_mib(limit)}. Upload a smaller file.",
                        code="file_too_large",
                        status=413,
                    )
                digest.update(chunk)
                target.write(chunk)
                chunk = source.read(_CHUNK)
            target.flush()
            os.fsync(target.fileno())
        if size == 0:
            raise UploadRefused("The file is empty.", code="file_empty", status=422)
        storage_name = f"{uuid.uuid4().hex}.{extension}"
        os.replace(partial, directory / storage_name)  # never half a file under a real name
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return StoredUpload(storage_name, name, file_type.content_type, size, digest.hexdigest())


def stored_path(kind: UploadKind, storage_name: str) -> Path:
    """The file of a stored upload; NotFound when the name is not ours or the file is gone."""
    path = upload_directory(kind) / storage_name
    if not _STORAGE_NAME.match(storage_name) or not path.is_file():
        raise NotFound("The file is no longer available.", entity="upload")
    return path


def discard(kind: UploadKind, storage_name: str) -> None:
    """Remove a stored file whose database row was never written."""
    if _STORAGE_NAME.match(storage_name):
        (upload_directory(kind) / storage_name).unlink(missing_ok=True)


def content_disposition(original_filename: str, *, disposition: str = "attachment") -> str:
    """The header value naming the file: an ASCII fallback plus the UTF-8 name (RFC 5987)."""
    name = _display_name(original_filename)
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", name) or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _display_name(original_filename: str) -> str:
    # browsers may send a full path; keep the last part, without control characters
    base = re.split(r"[\\/]", original_filename or "")[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:255] or "file"


def _wrong_type(kind: UploadKind, subject: str) -> UploadRefused:
    allowed = ", ".join(f".{ext}" for ext in allowed_extensions(kind))
    return UploadRefused(
        f"{subject} cannot be uploaded here. Allowed: {allowed}.",
        code="file_type",
        status=415,
    )


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MiB" if size >= 1024 * 1024 else f"{size} bytes"
