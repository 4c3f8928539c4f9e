"""Volunteer teams over the API on both databases: roster, members, skills, hours, permissions."""

from datetime import date, timedelta

from sqlalchemy import func, select

from renxing.db import transaction
from renxing.volunteers.members import check_availability
from renxing.volunteers.models import MemberSkill, ServiceHours, TeamMember, VolunteerTeam
from renxing.volunteers.skills import valid_skills
from tests.kit.client import login


def new_team(client, h, world, name="银发互助队", kind="silver_mutual_aid", unit="C1"):
    r = client.post(
        "/api/v1/volunteers/teams", json={"unit_id": world.units[unit], "name": name, "kind": kind}, headers=h
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def count(engine, model) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_roster_members_skills_and_hours(client, engine, world):
    h = login(client, "secretary")
    silver = new_team(client, h, world)
    new_team(client, h, world, "治安巡逻队", "security_patrol")
    r = client.post(
        f"/api/v1/volunteers/teams/{silver}/members",
        json={
            "resident_id": world.residents["li"],
            "role": "leader",
            "max_care": 4,
            "availability": {"0": ["08:00-11:30"], "3": ["14:00-17:00"]},
            "skills": [
                {"skill": "first_aid", "certificate_no": "JJ-7", "expires_on": str(date.today() + timedelta(30))}
            ],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    leader = r.json()
    assert leader["name"] == "李梅" and leader["building_id"] == world.units["B1"] and leader["lon"] is not None
    r = client.post(
        f"/api/v1/volunteers/teams/{silver}/members",
        json={"name": "外来医生", "phone": "13900002222", "lon": 118.8, "lat": 32.07},
        headers=h,
    )
    assert r.status_code == 201, r.text
    outsider = r.json()
    assert outsider["external"] and outsider["phone"] == "13900002222"  # staff see phones
    team = client.get(f"/api/v1/volunteers/teams/{silver}", headers=h).json()
    assert team["leader_member_id"] == leader["id"]
    roster = client.get(f"/api/v1/volunteers/teams/{silver}/members", params={"size": 1}, headers=h).json()
    assert roster["total"] == 2 and roster["pages"] == 2 and len(roster["items"]) == 1
    found = client.get(f"/api/v1/volunteers/teams/{silver}/members", params={"q": "医生"}, headers=h).json()
    assert [m["name"] for m in found["items"]] == ["外来医生"]
    teams = client.get("/api/v1/volunteers/teams", params={"sort": "name"}, headers=h).json()
    assert teams["total"] == 2
    assert next(t for t in teams["items"] if t["id"] == silver)["members"] == 2
    for day, hours in [(date.today() - timedelta(days=3), 2.5), (date.today() - timedelta(days=1), 1.5)]:
        r = client.post(
            f"/api/v1/volunteers/members/{leader['id']}/hours",
            json={"served_on": str(day), "hours": hours, "activity": "陪同就医"},
            headers=h,
        )
        assert r.status_code == 201, r.text
    rows = client.get("/api/v1/volunteers/hours", params={"team_id": silver}, headers=h).json()
    assert sum(r["hours"] for r in rows) == 4.0 and all(r["name"] == "银发互助队" for r in rows)
    per_member = client.get("/api/v1/volunteers/hours", params={"per": "member"}, headers=h).json()
    assert {r["name"] for r in per_member} == {"李梅"}
    expiring = client.get("/api/v1/volunteers/skills/expiring", headers=h).json()
    assert [(e["member"], e["skill"], e["days_left"]) for e in expiring] == [("李梅", "first_aid", 30)]
    # A volunteer reads the roster of their community, with phones masked, and writes nothing.
    v = login(client, "volunteer1")
    roster = client.get(f"/api/v1/volunteers/teams/{silver}/members", params={"q": "医生"}, headers=v).json()
    assert roster["items"][0]["phone"] == "139****2222"
    r = client.post(
        f"/api/v1/volunteers/members/{leader['id']}/hours", json={"served_on": str(date.today()), "hours": 1}, headers=v
    )
    assert r.status_code == 403
    # Another community's staff do not see the team at all.
    assert client.get(f"/api/v1/volunteers/teams/{silver}", headers=login(client, "staff2")).status_code == 404


def test_bad_input_names_the_field_and_stores_nothing(client, engine, world):
    h = login(client, "secretary")
    cases = [
        ({"unit_id": world.units["C1"], "name": "x", "kind": "wizards"}, "kind"),
        ({"unit_id": world.units["C2"], "name": "x", "kind": "youth"}, "unit_id"),  # not in scope
        ({"unit_id": world.units["A1"], "name": "x", "kind": "youth"}, "unit_id"),  # not a community
        ({"unit_id": world.units["C1"], "name": " ", "kind": "youth"}, "name"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/volunteers/teams", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert field in {e["field"] for e in r.json()["errors"]}
    assert count(engine, VolunteerTeam) == 0
    team = new_team(client, h, world)
    members = [
        ({"name": "甲", "availability": {"0": ["11:00-09:00"]}}, "availability"),
        ({"name": "甲", "availability": {"8": ["09:00-10:00"]}}, "availability"),
        ({"name": "甲", "max_care": 99}, "max_care"),
        ({"name": "甲", "phone": "12345"}, "phone"),
        ({"name": "甲", "role": "boss"}, "role"),
        ({"resident_id": world.residents["chen"]}, "resident_id"),  # lives in C2
        ({}, "name"),
        ({"name": "甲", "skills": [{"skill": "magic"}]}, "skills[0].skill"),
        (
            {"name": "甲", "skills": [{"skill": "nursing", "issued_on": "2024-05-01", "expires_on": "2024-01-01"}]},
            "skills[0].expires_on",
        ),
    ]
    for body, field in members:
        r = client.post(f"/api/v1/volunteers/teams/{team}/members", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, r.text
    assert count(engine, TeamMember) == 0 and count(engine, MemberSkill) == 0
    m = client.post(f"/api/v1/volunteers/teams/{team}/members", json={"name": "乙"}, headers=h).json()
    for body, field in [
        ({"served_on": str(date.today()), "hours": 0}, "hours"),
        ({"served_on": str(date.today()), "hours": 30}, "hours"),
        ({"served_on": str(date.today() + timedelta(days=2)), "hours": 2}, "served_on"),
    ]:
        r = client.post(f"/api/v1/volunteers/members/{m['id']}/hours", json=body, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field
    assert count(engine, ServiceHours) == 0
    assert client.get("/api/v1/volunteers/teams", params={"sort": "bogus"}, headers=h).status_code == 422


def test_pure_helpers():
    today = date(2026, 6, 1)

    class S:
        def __init__(self, skill, expires):
            self.skill, self.expires_on = skill, expires

    skills = [S("nursing", date(2026, 5, 31)), S("first_aid", None), S("driver", date(2026, 6, 1))]
    assert valid_skills(skills, today) == {"first_aid", "driver"}
    from renxing.errors import Collector

    errors = Collector()
    assert check_availability({0: "08:00-10:00,14:00-16:00"}, errors) == {"0": ["08:00-10:00", "14:00-16:00"]}
    assert not errors.errors
    check_availability({"1": ["25:00-26:00"]}, errors)
    assert errors.errors and errors.errors[0].field == "availability"
