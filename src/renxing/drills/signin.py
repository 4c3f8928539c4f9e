"""Sign-in by the code shown at the event: the QR code, and a resident signing in as themselves
or, without an account, by name and the last digits of their phone.

The code is an HMAC of the activity id keyed by ``secret_key``: it cannot be made up from the id,
and it only works within the activity's time window. It proves presence at the event, so the
lookup by name cannot be used from home to learn who lives here; the answer shows a masked name.
"""

import base64
import hashlib
import hmac
from datetime import datetime
from typing import TYPE_CHECKING, Any

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import SYSTEM, Principal
from renxing.config import get_settings
from renxing.db import utcnow
from renxing.drills.activities import load
from renxing.drills.attendance import check_window, record
from renxing.drills.models import Activity, Method
from renxing.drills.schemas import SelfSignIn
from renxing.errors import Collector, FieldError, Invalid, NotFound
from renxing.grid.models import Household
from renxing.i18n import _
from renxing.people import directory as people
from renxing.people.masking import mask_name

if TYPE_CHECKING:
    from renxing.people.models import Resident


def signin_token(activity_id: int) -> str:
    """The code in the QR of one activity: an HMAC, so a sign-in link cannot be made up."""
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, f"drill-signin:{activity_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def check_token(activity_id: int, token: str | None) -> None:
    if not token or not hmac.compare_digest(signin_token(activity_id), token):
        raise Invalid(_("签到码无效"), [FieldError("token", _("请重新扫码"))])


def signin_code(session: Session, actor: Principal, activity_id: int, base_url: str) -> dict[str, Any]:
    """The sign-in link of an activity and its QR code (SVG), for staff to show at the event."""
    a = load(session, actor, activity_id)
    actor.require(Perm.drills_attend)
    token = signin_token(a.id)
    url = f"{base_url.rstrip('/')}/drills/{a.id}/signin?t={token}"
    svg = segno.make(url, error="m").svg_inline(scale=5, dark="#1f2733", title=_("签到"))
    return {"activity_id": a.id, "token": token, "url": url, "svg": svg}


def activity_for_signin(session: Session, activity_id: int) -> Activity | None:
    """The activity a sign-in link names, whoever opens it: the code, not the account, admits."""
    return session.get(Activity, activity_id)


def sign_in_self(
    session: Session, actor: Principal | None, activity_id: int, data: SelfSignIn, now: datetime | None = None
) -> dict[str, Any]:
    """Sign in by the activity's code: a logged-in resident as themselves; anyone else by name,
    the last four digits of the phone and, if needed, the room."""
    now = now or utcnow()
    a = activity_for_signin(session, activity_id)
    if a is None:
        raise NotFound(_("活动 {activity_id} 不存在").format(activity_id=activity_id))
    check_token(a.id, data.token)
    check_window(a, now, by_staff=False)
    if actor is not None and actor.household_only and actor.resident_id is not None:
        r = _community_resident(session, a, actor.resident_id)
    else:
        r = _verify(session, a, data)
    added, _skipped = record(session, actor or SYSTEM, a, [r.id], Method.qr, now)
    return {
        "activity_id": a.id,
        "title": a.title,
        "resident": mask_name(r.name),
        "status": "signed" if added else "already",
    }


def _community_resident(session: Session, a: Activity, resident_id: int) -> "Resident":
    r = people.living_resident(session, resident_id)
    if r is None or not r.path.startswith(a.path):
        raise Invalid(
            _("不是本社区居民"),
            [FieldError("resident_id", "not_in_community", value=str(resident_id))],
        )
    return r


def _verify(session: Session, a: Activity, data: SelfSignIn) -> "Resident":
    errors = Collector()
    name = (data.name or "").strip()
    digits = "".join(ch for ch in (data.phone_last4 or "") if ch.isdigit())
    if not name:
        errors.add("name", _("请填写姓名"))
    if len(digits) != 4:
        errors.add("phone_last4", _("请填写手机号后四位"))
    errors.raise_if_any()
    matches = people.residents_by_name_and_phone_end(session, a.path, name, digits)
    no_match = Invalid(
        _("未找到与姓名和手机号相符的本社区居民，请找工作人员登记"),
        [FieldError("name", "not_in_community")],
    )
    if not matches:
        raise no_match
    if len(matches) > 1:
        matches = _by_room(session, matches, data.room)
        if len(matches) != 1:
            raise no_match
    return matches[0]


def _by_room(session: Session, matches: list["Resident"], room_text: str | None) -> list["Resident"]:
    """Homonyms with the same phone ending: the room number tells them apart."""
    room = (room_text or "").strip().removesuffix("室")
    if not room:
        raise Invalid(
            _("有多位居民相符，请填写门牌号"),
            [FieldError("room", "required")],
        )
    stmt = select(Household.id, Household.room).where(Household.id.in_([m.household_id for m in matches]))
    rooms = {hid: number for hid, number in session.execute(stmt)}
    return [m for m in matches if rooms.get(m.household_id) == room]
