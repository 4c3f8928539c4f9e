"""Skills with their certificates: which are valid, adding one, those expiring soon."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.auth.policy import Perm
from renxing.auth.principal import Principal
from renxing.errors import Collector, FieldError, Invalid
from renxing.grid.scope import visible_clause
from renxing.i18n import _
from renxing.volunteers.models import SKILL_LABELS, MemberSkill, Skill, TeamMember, VolunteerTeam

EXPIRING_DAYS = 60


def valid_skills(skills: list[MemberSkill], today: date) -> frozenset[str]:
    """Skills whose certificate has not expired (no expiry date: valid)."""
    return frozenset(s.skill for s in skills if s.expires_on is None or s.expires_on >= today)


def skills_of(session: Session, member_ids: list[int]) -> dict[int, list[MemberSkill]]:
    out: dict[int, list[MemberSkill]] = defaultdict(list)
    if member_ids:
        for s in session.scalars(
            select(MemberSkill).where(MemberSkill.member_id.in_(member_ids)).order_by(MemberSkill.id)
        ):
            out[s.member_id].append(s)
    return out


def check_skill(
    errors: Collector, i: int | None, skill: str, cert: str | None, issued: date | None, expires: date | None
) -> None:
    field = "skills" if i is None else f"skills[{i}]"
    if skill not in SKILL_LABELS:
        errors.add(f"{field}.skill", _("技能须为 {join} 之一").format(join=", ".join(Skill)), value=skill)
    if cert is not None and len(cert) > 40:
        errors.add(f"{field}.certificate_no", _("证书编号过长"))
    if issued and expires and expires < issued:
        errors.add(f"{field}.expires_on", _("到期早于发证"), value=expires)
    if issued and issued > date.today():
        errors.add(f"{field}.issued_on", _("发证日期在未来"), value=issued)


@dataclass
class ExpiringSkill:
    skill: MemberSkill
    member: TeamMember
    team: VolunteerTeam
    days_left: int  # negative: already expired


def expiring_skills(
    session: Session, actor: Principal, *, within_days: int = EXPIRING_DAYS, today: date | None = None
) -> list[ExpiringSkill]:
    """Certificates expiring within ``within_days`` or expired in the last year, soonest first."""
    actor.require(Perm.volunteers_read)
    if not 1 <= within_days <= 3650:
        raise Invalid(_("天数须在 1–3650"), [FieldError("within_days", "1..3650", value=within_days)])
    today = today or date.today()
    stmt = (
        select(MemberSkill, TeamMember, VolunteerTeam)
        .join(TeamMember, TeamMember.id == MemberSkill.member_id)
        .join(VolunteerTeam, VolunteerTeam.id == TeamMember.team_id)
        .where(
            MemberSkill.expires_on.is_not(None),
            MemberSkill.expires_on <= today + timedelta(days=within_days),
            MemberSkill.expires_on >= today - timedelta(days=365),
            TeamMember.active.is_(True),
        )
        .order_by(MemberSkill.expires_on, MemberSkill.id)
    )
    clause = visible_clause(VolunteerTeam.path, actor)
    if clause is not None:
        stmt = stmt.where(clause)
    return [ExpiringSkill(s, m, t, (s.expires_on - today).days) for s, m, t in session.execute(stmt)]
