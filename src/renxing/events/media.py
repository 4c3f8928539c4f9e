"""Photos of reports: checked by their actual bytes, re-encoded without metadata, stored on disk.

A phone photo carries where it was taken and with which camera (EXIF GPS, make, model,
serial); none of that may leave the reporter's hands. :func:`clean_photo` opens the bytes
with Pillow (the file name and the declared type are ignored), accepts JPEG, PNG and WebP
only, turns the picture upright by its EXIF orientation and writes it anew with no EXIF,
XMP or text chunks (the colour profile is kept).

A small file can decode to gigabytes (a 150 KB PNG of 7000×7000 flat pixels is 196 MB in
memory), so every path that takes a photo goes through :func:`clean_photo`, which bounds the
cost before decoding: the pixel count is read from the header (``Image.open`` decodes
nothing) and refused above ``Settings.max_image_pixels``; a JPEG is decoded at 1/2, 1/4 or
1/8 scale by the decoder itself (draft mode) when it is larger than what is stored
(``Settings.photo_max_side`` on the long side); PNG and WebP, which cannot be decoded at a
smaller scale, are refused when their pixels would take more than ``DECODE_BUDGET``; and at
most ``DECODE_SLOTS`` photos are decoded at a time in the process, so parallel uploads do
not multiply the peak.

Files are written under ``Settings.media_dir``; when the surrounding transaction rolls
back, the files it wrote are removed again, so a failed report leaves nothing behind.
"""

import hashlib
import io
import secrets
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

from renxing.config import get_settings
from renxing.errors import Collector
from renxing.events.models import ReportPhoto
from renxing.i18n import _, _l

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
DECODE_BUDGET = 64 * 1024 * 1024  # bytes of decoded pixels one photo may take (4096×4096 RGB)
DECODE_SLOTS = 2  # photos decoded at once in one process (the machine has few cores anyway)
_SLOTS = threading.BoundedSemaphore(DECODE_SLOTS)
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2}  # Pillow keeps others in 4
_PENDING = "renxing.media.written"
_UNREADABLE = _l("不是有效的图片（只接受 JPEG、PNG、WebP）")


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


def _too_many_pixels(limit: int, size: tuple[int, int] | None = None) -> PhotoError:
    if size is None:
        return PhotoError(
            _("图片像素过多，上限 {tens_of_thousands} 万像素，请缩小后再传").format(
                tens_of_thousands=limit // 10_000, limit=limit
            )
        )
    return PhotoError(
        _("图片像素过多（{width}×{height}），上限 {tens_of_thousands} 万像素，请缩小后再传").format(
            width=size[0], height=size[1], tens_of_thousands=limit // 10_000, limit=limit
        )
    )


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size within ``side`` × ``side`` with the same proportions (never enlarged)."""
    w, h = size
    if max(w, h) <= side:
        return w, h
    scale = side / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _jpeg_scale(size: tuple[int, int], target: tuple[int, int], per_pixel: int) -> int | None:
    """The decoder's reduction (1, 2, 4 or 8): as strong as still gives at least ``target``, and
    at least as strong as keeps the pixels within the budget; None when even 1/8 is too much."""
    w, h = size
    quality = max(s for s in (1, 2, 4, 8) if s == 1 or (w // s >= target[0] and h // s >= target[1]))
    for s in (1, 2, 4, 8):
        if s >= quality and -(-w // s) * -(-h // s) * per_pixel <= DECODE_BUDGET:
            return s
    return None


def _decode(raw: bytes) -> tuple[Image.Image, str, bytes | None]:
    """The photo decoded upright and no larger than stored, its format and colour profile."""
    settings = get_settings()
    limit = settings.max_image_pixels
    # Pillow's own guard at open: a warning (made an error here) above the limit, an error above twice it.
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(raw), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(limit) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(_UNREADABLE) from exc
    fmt = "JPEG" if im.format == "MPO" else im.format or ""  # phones' multi-picture JPEG: its first picture
    if fmt not in FORMATS:
        raise PhotoError(_UNREADABLE)
    width, height = im.size
    if width * height > limit:  # from the header: nothing is decoded yet
        raise _too_many_pixels(limit, (width, height))
    target = _fit(im.size, settings.photo_max_side)
    per_pixel = _BYTES_PER_PIXEL.get(im.mode, 4)
    if fmt == "JPEG":
        scale = _jpeg_scale(im.size, target, per_pixel)
        if scale is None:
            raise _too_many_pixels(limit, (width, height))
        if scale > 1:  # the decoder itself produces 1/scale of each side
            im.draft(im.mode, (width // scale, height // scale))
    elif width * height * per_pixel > DECODE_BUDGET:
        side = int((DECODE_BUDGET // per_pixel) ** 0.5)
        raise PhotoError(
            _("PNG/WebP 图片过大（{width}×{height}），最多约 {side}×{side}，请缩小或存为 JPEG").format(
                width=width, height=height, side=side
            )
        )
    icc = im.info.get("icc_profile")
    try:
        with _SLOTS:
            im.load()
            if im.size != target:
                # Straight to the stored size: no intermediate copy at a reduced scale.
                im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=None)
            upright = ImageOps.exif_transpose(im) or im
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(_UNREADABLE) from exc
    return upright, fmt, icc


def clean_photo(raw: bytes, max_bytes: int) -> CleanPhoto:
    if len(raw) > max_bytes:
        raise PhotoError(_("照片超过 {mb} MB").format(mb=max_bytes // (1024 * 1024), max_bytes=max_bytes))
    if not raw:
        raise PhotoError(_("空文件"))
    clean, fmt, icc = _decode(raw)
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
        errors.add(field, _("最多 {max_count} 张照片").format(max_count=max_count), value=len(photos))
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


def store_photo(
    session: Session, report_id: int, photo: CleanPhoto, kind: str, event_id: int | None, now: datetime
) -> ReportPhoto:
    """Keep a report's cleaned photo (``kind``: report, check_in or resolve) with the step it belongs to."""
    row = ReportPhoto(
        report_id=report_id,
        event_id=event_id,
        kind=kind,
        path=store(session, photo, "reports", now),
        content_type=photo.content_type,
        size=len(photo.data),
        width=photo.width,
        height=photo.height,
        sha256=photo.sha256,
        created_at=now,
    )
    session.add(row)
    return row


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
