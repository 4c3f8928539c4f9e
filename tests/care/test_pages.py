"""The care and volunteer pages through the login form on both databases: overview, proposal and
"assign all", my care list and the visit form (with a problem raised), coverage map, team pages."""

import re

from sqlalchemy import func, select

from renxing.care.models import CareAssignment, CarePlan, CareVisit
from renxing.db import transaction
from tests.kit.care_world import care_world, plan_of
from tests.kit.client import page_login


def test_secretary_proposes_and_assigns_all_from_the_page(client, engine, world):
    cw = care_world(engine, world)
    token = page_login(client, "secretary")
    r = client.get("/care", params={"unit_id": world.units["C1"]})
    assert r.status_code == 200, r.text
    assert "王建国" in r.text and "李梅" in r.text and 'id="propose"' in r.text
    assert 'href="/care"' in r.text and 'href="/volunteers"' in r.text  # nav links
    r = client.post("/care/propose", data={"csrf_token": token, "unit_id": world.units["C1"]})
    assert r.status_code == 200, r.text
    assert 'id="assign-all"' in r.text and "护理" in r.text
    assert f'value="m{cw.nurse}"' in r.text
    # The form posts back exactly the pairs shown.
    residents = re.findall(r'name="resident_id" value="(\d+)"', r.text)
    carers = re.findall(r'name="carer" value="([mu]\d+)"', r.text)
    assert len(residents) == 2 and len(carers) == 2
    r = client.post(
        "/care/assign",
        data={"csrf_token": token, "unit_id": world.units["C1"], "resident_id": residents, "carer": carers},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert 'id="assigned-flash"' in page.text and 'id="none-uncovered"' in page.text


def test_assign_all_with_an_error_shows_it_and_writes_nothing(client, engine, world):
    cw = care_world(engine, world)
    token = page_login(client, "secretary")
    r = client.post(
        "/care/assign",
        data={
            "csrf_token": token,
            "unit_id": world.units["C1"],
            "resident_id": [world.residents["wang"], world.residents["li"]],
            "carer": [f"m{cw.nurse}", f"m{cw.nurse}"],
        },
    )
    assert r.status_code == 422
    assert 'id="assign-errors"' in r.text and "pairs[1].carer" in r.text
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(CareAssignment)) == 0
    bad = client.post("/care/assign", data={"csrf_token": "nope", "resident_id": [1], "carer": ["m1"]})
    assert bad.status_code == 403


def test_my_care_list_and_visit_form(client, engine, world):
    cw = care_world(engine, world)
    sec = page_login(client, "secretary")
    client.post(
        "/care/assign",
        data={
            "csrf_token": sec,
            "unit_id": world.units["C1"],
            "resident_id": [world.residents["wang"], world.residents["li"]],
            "carer": [f"m{cw.nurse}", f"m{cw.helper}"],
        },
    )
    plan = plan_of(engine, world.residents["wang"])
    other = plan_of(engine, world.residents["li"])
    token = page_login(client, "volunteer1")
    r = client.get("/care/mine")
    assert r.status_code == 200 and "王建国" in r.text and "李梅" not in r.text
    assert "***" in r.text  # the oxygen need is health data the volunteer does not see
    assert 'name="viewport"' in r.text and "care-cards" in r.text
    assert client.get(f"/care/plans/{other}/visit").status_code == 404
    form = client.get(f"/care/plans/{plan}/visit")
    assert form.status_code == 200 and 'id="visit-form"' in form.text
    bad = client.post(f"/care/plans/{plan}/visit", data={"csrf_token": token, "found": "problem", "note": "需要帮忙"})
    assert bad.status_code == 422 and "field-error" in bad.text
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(CareVisit)) == 0
    r = client.post(
        f"/care/plans/{plan}/visit",
        data={
            "csrf_token": token,
            "found": "problem",
            "problem_category": "safety",
            "note": "燃气灶打不着火",
            "raise_report": "1",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "report=" in r.headers["location"]
    with transaction(engine) as s:
        visit = s.scalar(select(CareVisit))
        assert visit.report_id is not None and visit.found == "problem"
    assert client.get("/care").status_code == 403  # volunteers have no overview


def test_coverage_and_volunteer_pages_render(client, engine, world):
    cw = care_world(engine, world)
    page_login(client, "secretary")
    r = client.get("/care/coverage", params={"unit_id": world.units["C1"]})
    assert r.status_code == 200, r.text
    assert 'id="care-map"' in r.text and "leaflet.js" in r.text and "1栋" in r.text
    r = client.get("/care/coverage", params={"unit_id": world.units["C1"], "extra": 1, "skill": "nursing"})
    assert r.status_code == 200 and 'id="what-if-result"' in r.text
    bad = client.get("/care/coverage", params={"unit_id": world.units["C1"], "extra": 1, "skill": "magic"})
    assert bad.status_code == 422
    r = client.get("/volunteers")
    assert r.status_code == 200 and "银发互助队" in r.text and "hours-chart" in r.text
    assert "钱护士" in r.text  # her expired certificate is listed
    r = client.get(f"/volunteers/{cw.medical}")
    assert r.status_code == 200 and "赵强" in r.text and "护理" in r.text
    en = client.get("/volunteers", params={"lang": "en"})
    assert "Volunteer teams" in en.text
    page_login(client, "street")
    r = client.get("/care/coverage", params={"unit_id": world.units["S"]})
    assert r.status_code == 200 and "王建国" not in r.text  # aggregates only
    page_login(client, "staff2")
    assert client.get(f"/volunteers/{cw.medical}").status_code == 404
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(CarePlan)) == 0
