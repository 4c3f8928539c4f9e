"""The team roster on both databases: active members first in every order, stable pages, the
documented shapes."""

from datetime import date

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.volunteers import members, teams
from renxing.volunteers.models import TeamMember
from renxing.volunteers.schemas import MemberOut, TeamRowOut
from renxing.web.schemas import PageOut
from tests.kit.client import login

PEOPLE = [("甲", date(2024, 3, 1)), ("乙", date(2023, 5, 1)), ("丙", date(2025, 1, 1)), ("丁", date(2024, 3, 1))]


def test_roster_orders_and_pages(client, engine, world):
    with transaction(engine) as s:
        team = teams.create_team(s, SYSTEM, unit_id=world.units["C1"], name="青年队", kind="youth")
        ids = [members.add_member(s, SYSTEM, team.id, name=n, joined_on=d).id for n, d in PEOPLE]
        s.get(TeamMember, ids[2]).active = False  # 丙 left: listed last whatever the order
        team_id = team.id
    h = login(client, "secretary")
    url = f"/api/v1/volunteers/teams/{team_id}/members"
    newest = client.get(url, params={"sort": "-joined"}, headers=h).json()
    PageOut[MemberOut].model_validate(newest)
    assert [m["name"] for m in newest["items"]] == ["丁", "甲", "乙", "丙"]  # equal dates: the later member first
    oldest = client.get(url, params={"sort": "joined"}, headers=h).json()
    assert [m["name"] for m in oldest["items"]] == ["乙", "甲", "丁", "丙"]
    for sort in ("name", "-name", "joined", "-joined"):
        whole = [m["id"] for m in client.get(url, params={"sort": sort}, headers=h).json()["items"]]
        paged = []
        for page in (1, 2):
            paged += [
                m["id"]
                for m in client.get(url, params={"sort": sort, "page": page, "size": 2}, headers=h).json()["items"]
            ]
        assert paged == whole and whole[-1] == ids[2], sort
    found = client.get(url, params={"q": "甲"}, headers=h).json()
    assert found["total"] == 1 and found["items"][0]["name"] == "甲"
    rows = client.get("/api/v1/volunteers/teams", params={"sort": "-created", "kind": "youth"}, headers=h).json()
    page = PageOut[TeamRowOut].model_validate(rows)
    assert [t.name for t in page.items] == ["青年队"] and page.items[0].members == 3
