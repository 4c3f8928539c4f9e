"""The demo's teams and care: 14 teams in 桂花园, a realistic share uncovered, visits and reports,
and the demo volunteer with a care list."""

from datetime import date

from sqlalchemy import func, select

from renxing.auth.principal import SYSTEM
from renxing.care import matching, views
from renxing.care.models import CareAssignment, CarePlan, CareVisit
from renxing.db import transaction
from renxing.demo.build import DEMO_PASSWORD, build_demo
from renxing.grid.models import GridUnit
from renxing.volunteers.models import MemberSkill, ServiceHours, TeamMember, VolunteerTeam


def test_demo_teams_plans_and_visits(engine, client):
    build_demo(engine, scale=0.1)
    with transaction(engine) as s:
        gh = s.scalar(select(GridUnit).where(GridUnit.name == "桂花园社区"))
        teams = s.scalars(select(VolunteerTeam).where(VolunteerTeam.unit_id == gh.id)).all()
        assert len(teams) == 14
        assert len({t.kind for t in teams}) >= 6
        assert s.scalar(select(func.count()).select_from(VolunteerTeam)) > 14  # a few elsewhere too
        assert s.scalar(select(func.count()).select_from(ServiceHours)) > 100
        expired = s.scalar(select(func.count()).select_from(MemberSkill).where(MemberSkill.expires_on < date.today()))
        assert expired > 0
        ov = views.overview(s, SYSTEM, gh.id)
        share = len(ov.uncovered) / ov.vulnerable
        assert ov.vulnerable > 50 and 0.05 <= share <= 0.35, (ov.vulnerable, share)
        assert ov.overdue and len(ov.overdue) < ov.plans
        assert s.scalar(select(func.count()).select_from(CareAssignment)) > 0
        assert s.scalar(select(func.count()).select_from(CareVisit)) > 0
        # The proposal has carers left to offer.
        assert matching.propose_assignments(s, SYSTEM, gh.id).pairs
        linked = s.scalar(select(TeamMember).where(TeamMember.user_id.is_not(None)))
        assert linked is not None
        assert s.scalar(select(func.count()).select_from(CarePlan)) > 0
    r = client.post("/api/v1/auth/token", data={"username": "volunteer1", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    mine = client.get("/api/v1/care/mine", headers=headers).json()
    assert mine["total"] >= 2
    assert any(p["overdue"] for p in mine["items"])
