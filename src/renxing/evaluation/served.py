"""Who can be rated, and whether they served the rater: the teams and organizations of a
community, and the service a resident received from one within the last year (a care visit by a
team member, an activity it organized, ran or joined, a report it handled). Each domain answers
for its own records through its directory."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from renxing.auth import directory as accounts
from renxing.care import received as care
from renxing.db import utcnow
from renxing.drills import directory as drills
from renxing.errors import FieldError, Invalid
from renxing.evaluation.models import TargetKind
from renxing.events import handled_reports as reports
from renxing.i18n import _l, in_each_lang
from renxing.partners import directory as partners
from renxing.volunteers import directory as volunteers
from renxing.volunteers.models import TEAM_KIND_LABELS  # labels only: no table is read here

if TYPE_CHECKING:
    from renxing.partners.models import Organization
    from renxing.volunteers.models import VolunteerTeam

SERVICE_DAYS = 365  # a service received within the last year can be rated
BASIS_LABELS = {
    "care_visit": _l("上门关怀"),
    "activity": _l("参加活动"),
    "report": _l("事件处置"),
}


@dataclass
class Target:
    kind: str
    id: int
    name: str
    kind_label: Any  # a label (lazy) or, for an unknown kind, the kind itself
    path: str  # the community's path
    user_id: int | None = None  # organizations: their account


def label_pair(label: Any) -> list[str]:
    """The API carries a kind's label as [Chinese, English]."""
    return list(in_each_lang(label).values())


def _team(t: "VolunteerTeam") -> Target:
    return Target(TargetKind.team.value, t.id, t.name, TEAM_KIND_LABELS.get(t.kind, t.kind), t.path)


def _organization(o: "Organization") -> Target:
    kind_label = partners.kind_label(o.kind)
    return Target(TargetKind.organization.value, o.id, o.name, kind_label, o.path, o.user_id)


def target(session: Session, kind: str, target_id: int) -> Target | None:
    """A team or organization by kind and id; None when missing, a 422 on ``target_kind`` for another kind."""
    if kind == TargetKind.team.value:
        t = volunteers.team(session, target_id)
        return None if t is None else _team(t)
    if kind == TargetKind.organization.value:
        o = partners.organization(session, target_id)
        return None if o is None else _organization(o)
    raise Invalid(
        "评价对象类型应为 team 或 organization", [FieldError("target_kind", "team | organization", value=kind)]
    )


def community_targets(session: Session, community_path: str) -> list[Target]:
    """The active teams (by name), then the active organizations (by kind and name) of a community."""
    teams = [_team(t) for t in volunteers.active_in_community(session, community_path)]
    return teams + [_organization(o) for o in partners.active_in_community(session, community_path)]


def _by_care_visit(session: Session, resident_id: int, t: Target, since: datetime) -> int | None:
    return care.visit_by_members(session, resident_id, volunteers.member_ids(session, t.id), since)


def _by_activity(session: Session, resident_id: int, t: Target, since: datetime) -> int | None:
    if t.kind == TargetKind.team.value:
        return drills.attended_activity(session, resident_id, since, team_id=t.id)
    return drills.attended_activity(session, resident_id, since, organization_id=t.id)


def _by_report(session: Session, resident_id: int, t: Target, since: datetime) -> int | None:
    filed_by = accounts.accounts_of_resident(session, resident_id)
    return reports.handled_by_partner(session, filed_by, since, t.name, t.user_id)


def service_basis(session: Session, resident_id: int, t: Target, now: datetime | None = None) -> str | None:
    """How the resident was served by the target, or None if they never were (in the last year)."""
    since = (now or utcnow()) - timedelta(days=SERVICE_DAYS)
    if t.kind == TargetKind.team.value and _by_care_visit(session, resident_id, t, since) is not None:
        return "care_visit"
    if _by_activity(session, resident_id, t, since) is not None:
        return "activity"
    if t.kind == TargetKind.organization.value and _by_report(session, resident_id, t, since) is not None:
        return "report"
    return None
