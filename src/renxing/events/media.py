"""Photos of reports: checked by their actual bytes, re-encoded without metadata, stored on disk.

A phone photo carries where it was taken and with which camera (EXIF GPS, make, model,
serial); none of that may leave the reporter's hands. :func:`clean_photo` opens the bytes
with Pillow (the file name and the declared type are ignored), accepts JPEG, PNG and WebP
only, turns the picture upright by its EXIF orientation and writes it anew with no EXIF,
XMP or text chunks (the colour profile is kept).

Files are written under ``Settings.media_dir``; when the surrounding transaction rolls
back, the files it wrote are removed again, so a failed report leaves nothing behind.
"""

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

from renxing.config import get_settings
from renxing.errors import Collector

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_PIXELS = 50_000_000  # a 10 MB file may still decode to gigabytes: refuse before decoding
_PENDING = "renxing.media.written"


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    content_type: str
    ext: str
    width: int
    height: int
    sha256: str


class PhotoError(ValueError):
    """An upload that is not a usable JPEG, PNG or WebP photo."""


def clean_photo(raw: bytes, max_bytes: int) -> CleanPhoto:
    if len(raw) > max_bytes:
        raise PhotoError(f"照片超过 {max_bytes // (1024 * 1024)} MB / photo larger than {max_bytes} bytes")
    if not raw:
        raise PhotoError("空文件 / empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(raw))
            fmt = im.format
            if fmt not in FORMATS:
                raise PhotoError(f"只接受 JPEG、PNG、WebP / only JPEG, PNG or WebP, not {fmt}")
            if im.width * im.height > MAX_PIXELS:
                raise PhotoError("图片像素过多 / image has too many pixels")
            im.load()
            upright = ImageOps.exif_transpose(im)
    except PhotoError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise PhotoError("不是有效的图片 / not a readable image") from exc
    icc = im.info.get("icc_profile")
    clean = upright.copy()
    clean.info = {}  # drops exif, xmp, comments and PNG text chunks
    out = io.BytesIO()
    options: dict = {"exif": b""}
    if icc:
        options["icc_profile"] = icc
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        options.update(quality=90)
    elif fmt == "WEBP":
        options.update(quality=90)
    clean.save(out, format=fmt, **options)
    data = out.getvalue()
    content_type, ext = FORMATS[fmt]
    return CleanPhoto(data, content_type, ext, clean.width, clean.height, hashlib.sha256(data).hexdigest())


def check_photos(
    photos: list[bytes], errors: Collector, *, field: str = "photos", max_count: int, max_bytes: int
) -> list[CleanPhoto]:
    """Every photo cleaned, or a field error per bad one (all reported at once)."""
    if len(photos) > max_count:
        errors.add(field, f"最多 {max_count} 张照片 / at most {max_count} photos", value=len(photos))
        return []
    out = []
    for i, raw in enumerate(photos):
        try:
            out.append(clean_photo(raw, max_bytes))
        except PhotoError as exc:
            errors.add(field, str(exc), row=i + 1)
    return out


def media_root() -> Path:
    return Path(get_settings().media_dir)


def store(session: Session, photo: CleanPhoto, folder: str, now: datetime) -> str:
    """Write the photo under the media root; returns its path relative to that root."""
    rel = Path(folder) / f"{now:%Y}" / f"{now:%m}" / f"{secrets.token_urlsafe(12)}.{photo.ext}"
    full = media_root() / rel
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_bytes(photo.data)
    session.info.setdefault(_PENDING, []).append(full)
    return rel.as_posix()


def open_path(rel: str) -> Path:
    root = media_root().resolve()
    full = (root / rel).resolve()
    if root not in full.parents:  # a stored path never escapes the media root
        raise FileNotFoundError(rel)
    return full


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _remove_files(session: Session) -> None:
    for path in session.info.pop(_PENDING, []):
        path.unlink(missing_ok=True)
