"""Uploads waiting between their preview and their confirmation.

The file checked at preview waits on the server under a random token until it is confirmed,
so the confirmation imports exactly what was previewed and nothing travels twice. Only the
user who sent it may take it back, and only while it is fresh.
"""

import json
import re
import secrets
import tempfile
import time
from pathlib import Path

from renxing.auth.principal import Principal
from renxing.errors import Invalid
from renxing.i18n import _

UPLOADS = Path(tempfile.gettempdir()) / "renxing-uploads"
UPLOAD_TTL = 3600  # seconds a previewed file waits for its confirmation
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def stash(actor: Principal, kind: str, file_name: str, data: bytes) -> str:
    UPLOADS.mkdir(mode=0o700, exist_ok=True)
    now = time.time()
    for old in UPLOADS.glob("*.json"):
        if now - old.stat().st_mtime > UPLOAD_TTL:
            old.unlink(missing_ok=True)
            old.with_suffix(".bin").unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    (UPLOADS / f"{token}.bin").write_bytes(data)
    meta = {"user_id": actor.user_id, "kind": kind, "file_name": file_name}
    (UPLOADS / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def unstash(actor: Principal, token: str) -> tuple[str, str, bytes]:
    """The previewed upload, only for the user who sent it and only while it is fresh."""
    expired = Invalid(_("上传已过期，请重新选择文件"), [])
    if not TOKEN.match(token):
        raise expired
    meta_path = UPLOADS / f"{token}.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = (UPLOADS / f"{token}.bin").read_bytes()
    except (OSError, ValueError) as exc:
        raise expired from exc
    if meta.get("user_id") != actor.user_id or time.time() - meta_path.stat().st_mtime > UPLOAD_TTL:
        raise expired
    return meta["kind"], meta["file_name"], data


def drop(token: str) -> None:
    if TOKEN.match(token):
        (UPLOADS / f"{token}.json").unlink(missing_ok=True)
        (UPLOADS / f"{token}.bin").unlink(missing_ok=True)
