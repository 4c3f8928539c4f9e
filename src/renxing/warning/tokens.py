"""The acknowledgement token of one household's copy of a warning: ``<target>.<mac>``.

Pure. The MAC is an HMAC-SHA256 of the warning and target ids under the installation's secret,
so a token needs no storage, cannot be forged or moved to another household, and a link carries
no personal data. 128 bits of MAC in base64url keep the link short enough for an SMS.
"""

import base64
import hashlib
import hmac

MAC_BYTES = 16


def _mac(secret: str, warning_id: int, target_id: int) -> str:
    digest = hmac.new(secret.encode(), f"warning:{warning_id}:target:{target_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:MAC_BYTES]).decode().rstrip("=")


def make(secret: str, warning_id: int, target_id: int) -> str:
    return f"{target_id}.{_mac(secret, warning_id, target_id)}"


def target_of(token: str) -> int | None:
    """The target id a token names (unchecked), None when it is not shaped like a token."""
    head, _, mac = token.partition(".")
    if not head.isdigit() or len(head) > 18 or not mac or len(mac) > 40:
        return None
    return int(head)


def check(secret: str, token: str, warning_id: int) -> bool:
    """Whether the token was made for this target of this warning (constant-time comparison)."""
    target_id = target_of(token)
    if target_id is None:
        return False
    return hmac.compare_digest(token.partition(".")[2], _mac(secret, warning_id, target_id))
