"""The care lists on both databases: the due date the plan list sorts and filters by in SQL is the
one the rules give, pages are stable, a bad sort is one 422 naming the field, and the answers are
the shapes the API documents."""

from datetime import UTC, datetime, timedelta

from renxing.care import rules
from renxing.care.models import CarePlan, CareVisit
from renxing.care.schemas import PlanOut, VisitOut
from renxing.db import transaction
from renxing.people.models import Resident
from renxing.web.schemas import PageOut
from tests.kit.client import login

# resident → (frequency days, emergency, days since the plan started, days since the last visit)
PLANS = {
    "wang": (3, False, 20, None),
    "wangxm": (7, False, 10, 2),
    "li": (14, True, 5, None),
    "zhao": (7, False, 30, 9),
}


def open_plans(engine, world, now: datetime) -> dict[int, datetime]:
    """One plan per resident of community C1, with visits; the due date the rules give each plan."""
    due: dict[int, datetime] = {}
    with transaction(engine) as s:
        for key, (every, emergency, started, visited) in PLANS.items():
            r = s.get(Resident, world.residents[key])
            created = now - timedelta(days=started)
            plan = CarePlan(
                resident_id=r.id, path=r.path, frequency_days=every, emergency=emergency, created_at=created
            )
            s.add(plan)
            s.flush()
            last = None
            if visited is not None:
                last = now - timedelta(days=visited, hours=1)
                s.add(CareVisit(plan_id=plan.id, carer_kind="volunteer", visited_at=last - timedelta(days=3)))
                s.add(CareVisit(plan_id=plan.id, carer_kind="volunteer", visited_at=last, found="ok"))
            freq = rules.effective_frequency(every, plan_emergency=emergency, emergency_mode=False)
            due[plan.id] = rules.due_at(last, created, freq)
    return due


def test_plans_sort_and_filter_by_the_due_date_the_rules_give(client, engine, world):
    now = datetime.now(UTC)
    due = open_plans(engine, world, now)
    h = login(client, "secretary")
    r = client.get("/api/v1/care/plans", headers=h)
    assert r.status_code == 200, r.text
    rows = r.json()["items"]
    by_due = sorted(due, key=lambda p: (due[p], p))
    assert [x["id"] for x in rows] == by_due
    for x in rows:
        assert abs(datetime.fromisoformat(x["due_at"]) - due[x["id"]]) < timedelta(seconds=1)
    backwards = client.get("/api/v1/care/plans", params={"sort": "-due"}, headers=h).json()["items"]
    assert [x["id"] for x in backwards] == by_due[::-1]
    late = client.get("/api/v1/care/plans", params={"overdue": "true"}, headers=h).json()
    assert sorted(x["id"] for x in late["items"]) == sorted(p for p, at in due.items() if at < now)
    assert late["total"] == len(late["items"]) and all(x["overdue"] for x in late["items"])


def test_plan_pages_are_stable_in_every_order(client, engine, world):
    open_plans(engine, world, datetime.now(UTC))
    h = login(client, "secretary")
    for sort in ("due", "-due", "name", "building", "-building"):
        whole = client.get("/api/v1/care/plans", params={"sort": sort}, headers=h).json()
        assert whole["total"] == len(PLANS)
        paged = []
        for page in range(1, len(PLANS) + 1):
            params = {"sort": sort, "page": page, "size": 1}
            one = client.get("/api/v1/care/plans", params=params, headers=h).json()
            assert one["total"] == len(PLANS) and one["pages"] == len(PLANS)
            paged += [x["id"] for x in one["items"]]
        assert paged == [x["id"] for x in whole["items"]], sort


BAD_LISTS = [
    ("/api/v1/care/plans", {"sort": "bogus"}),
    ("/api/v1/care/plans", {"sort": "--due"}),
    ("/api/v1/care/plans", {"q": "x" * 101}),
    ("/api/v1/volunteers/teams", {"sort": "members"}),
    ("/api/v1/volunteers/teams", {"kind": "wizards"}),
]


def test_a_bad_list_request_is_one_422_naming_the_field(client, engine, world):
    h = login(client, "secretary")
    for url, params in BAD_LISTS:
        r = client.get(url, params=params, headers=h)
        assert r.status_code == 422, (url, params, r.text)
        assert [e["field"] for e in r.json()["errors"]] == [next(iter(params))], (url, params)


def test_list_answers_are_the_documented_shapes(client, engine, world):
    now = datetime.now(UTC)
    open_plans(engine, world, now)
    h = login(client, "secretary")
    plans = client.get("/api/v1/care/plans", params={"size": 2}, headers=h).json()
    page = PageOut[PlanOut].model_validate(plans)
    assert page.total == len(PLANS) and len(page.items) == 2 and page.pages == 2
    assert set(plans["items"][0]) == set(PlanOut.model_fields)
    visits = client.get("/api/v1/care/visits", headers=h).json()
    checked = PageOut[VisitOut].model_validate(visits)
    assert checked.total == 4
    times = [v.visited_at for v in checked.items]
    assert times == sorted(times, reverse=True)  # newest first
    assert {v["resident"] for v in visits["items"]} == {"王小明", "赵强"}
