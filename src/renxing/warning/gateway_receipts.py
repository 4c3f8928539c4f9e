"""Delivery receipts from the SMS and voice gateways: ``POST /api/v1/warning/gateway/receipts``.

The body is JSON ``{"receipts": [{"id": "<gateway id>", "status": "delivered" | "failed",
"error": "…"}]}``, signed by the gateway: header ``X-Renxing-Signature: sha256=<hex HMAC-SHA256
of the raw body under Settings.gateway_secret>`` (the bare hex is taken too). Unsigned, wrongly
signed, or with no secret configured: 401 and nothing read. A receipt moves the delivery that
carries the gateway id forward (``dispatch.receive_receipts``); ids nobody carries are counted,
not refused, so a gateway's retry of a batch does no harm.
"""

import hashlib
import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError

from renxing.config import get_settings
from renxing.db import utcnow
from renxing.errors import FieldError, Invalid, NotAuthenticated
from renxing.i18n import _
from renxing.warning import dispatch
from renxing.web.deps import DB

router = APIRouter(prefix="/api/v1/warning/gateway", tags=["warning"])
HEADER = "X-Renxing-Signature"
MAX_RECEIPTS = 10_000


class ReceiptIn(BaseModel):
    id: Annotated[str, Field(min_length=1, max_length=120)]
    status: Literal["delivered", "failed"]
    error: Annotated[str | None, Field(max_length=300)] = None


class ReceiptsIn(BaseModel):
    receipts: Annotated[list[ReceiptIn], Field(max_length=MAX_RECEIPTS)]


class ReceiptsOut(BaseModel):
    delivered: int
    failed: int
    unknown: int


def signature(secret: str, body: bytes) -> str:
    """The header value a gateway sends with ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(secret: str | None, body: bytes, header: str | None) -> bool:
    """Whether ``header`` signs ``body`` under ``secret`` (constant-time; no secret: never)."""
    if not secret or not header:
        return False
    given = header.strip()
    given = given[len("sha256=") :] if given.lower().startswith("sha256=") else given
    return hmac.compare_digest(given.lower(), signature(secret, body)[len("sha256=") :])


@router.post(
    "/receipts",
    summary="Delivery receipts from an SMS or voice gateway (HMAC-signed)",
    response_model=ReceiptsOut,
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": ReceiptsIn.model_json_schema()}}}
    },
)
async def receipts(request: Request, session: DB) -> dict:
    settings = get_settings()
    body = await request.body()
    if not signed(settings.gateway_secret, body, request.headers.get(HEADER)):
        raise NotAuthenticated(_("网关回执签名无效"))
    try:
        data = ReceiptsIn.model_validate_json(body)
    except ValidationError as exc:
        errors = [FieldError(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()[:20]]
        raise Invalid(_("网关回执格式有误"), errors) from None
    counts = dispatch.receive_receipts(
        session,
        [(r.id, r.status, r.error) for r in data.receipts],
        now=utcnow(),
        max_attempts=settings.delivery_attempts,
    )
    return {"delivered": counts.delivered, "failed": counts.failed, "unknown": counts.unknown}
