"""Report lists through the one list helper (declared sorts, filters and search, one 422 naming
the field, a stable order across pages), the SQL twin of "overdue", and the typed answers: each
route answers every key its query builds, in the shape it documents."""

from renxing.app import create_app
from renxing.db import make_engine, transaction
from renxing.events import queries, stats
from renxing.events.models import Report
from renxing.events.schemas import IntakeOut, ReportViewOut, StatsOut
from renxing.listing import ListQuery
from tests.kit.client import login
from tests.kit.events_world import later, png


def test_a_bad_sort_is_one_422_naming_the_field(ev, client):
    worker = login(client, "gridworker1")
    for url in ("/api/v1/reports?sort=size", "/api/v1/reports/inbox?sort=-size", "/api/v1/notifications?sort=title"):
        r = client.get(url, headers=worker)
        assert r.status_code == 422, url
        assert [e["field"] for e in r.json()["errors"]] == ["sort"], url


def test_pages_of_reports_filed_at_one_moment_keep_their_order(ev, client):
    ids = [ev.submit("resident1") for _ in range(5)]  # all at the same time: the id breaks the tie
    street = login(client, "street")
    for sort, expected in (("created", sorted(ids)), ("-created", sorted(ids, reverse=True))):
        seen = []
        for page in (1, 2, 3):
            got = client.get("/api/v1/reports", params={"sort": sort, "size": 2, "page": page}, headers=street)
            seen += [x["id"] for x in got.json()["items"]]
        assert seen == expected, sort


def test_search_reads_the_description_and_the_address_literally(ev, client):
    boxes = ev.submit("resident1", description="楼道堆放纸箱")
    bikes = ev.submit("resident1", description="电动车在楼道充电", address="3单元 100% 满")
    street = login(client, "street")

    def found(text: str) -> list[int]:
        answer = client.get("/api/v1/reports", params={"q": text}, headers=street)
        return [x["id"] for x in answer.json()["items"]]

    assert found("纸箱") == [boxes]
    assert found("3单元") == [bikes]
    assert sorted(found("楼道")) == sorted([boxes, bikes])
    assert found("100%") == [bikes] and found("0%满") == []  # % is a character, not a wildcard
    inbox = client.get("/api/v1/reports/inbox", params={"q": "纸箱"}, headers=login(client, "gridworker1"))
    assert [x["id"] for x in inbox.json()["items"]] == [boxes]


def test_overdue_in_sql_agrees_with_the_listed_deadlines(ev):
    filed = ev.submit("resident1")
    urgent = ev.submit("gridworker1", channel="patrol", category="gas", severity="urgent")
    ev.act("gridworker1", urgent, "accept", now=later(5))
    done = ev.submit("gridworker1", channel="patrol", category="sanitation")
    ev.act("gridworker1", done, "reject", reason="重复", now=later(5))
    for minutes in (1, 20, 60 * 5, 60 * 24 * 3):
        now = later(minutes)
        with transaction(ev.engine) as s:
            actor = ev.principal("street")
            every = queries.list_reports(s, actor, ListQuery(size=50), now=now).items
            late = {r.id for r in every if queries.present(r, actor, now=now)["overdue"]}
            query = ListQuery(size=50, filters={"overdue": True})
            assert {r.id for r in queries.list_reports(s, actor, query, now=now).items} == late, minutes
            handler = ev.principal("gridworker1")
            counts = queries.inbox_counts(s, handler, now=now)
            rows = queries.inbox(s, handler).items
            assert counts["total"] == len(rows)
            assert counts["overdue"] == sum(queries.present(r, handler, now=now)["overdue"] for r in rows)
    assert {filed, urgent} <= late and done not in late


def test_a_unit_outside_the_scope_is_refused_by_the_overview(ev, client):
    ev.submit("resident1")
    staff2 = login(client, "staff2")  # community C2
    assert client.get("/api/v1/reports", params={"unit_id": ev.w.units["C1"]}, headers=staff2).status_code == 403
    assert client.get("/api/v1/reports", params={"unit_id": 2_000_000_000}, headers=staff2).status_code == 404


def test_answers_carry_every_key_the_queries_build(ev, client):
    worker = login(client, "gridworker1")
    filed = client.post(
        "/api/v1/reports",
        data={"category": "fire_hazard", "description": "楼道堆放纸箱", "unit_id": str(ev.w.units["B1"])},
        files={"photos": ("a.png", png(), "image/png")},
        headers=worker,
    )
    assert filed.status_code == 201, filed.text
    rid = filed.json()["id"]
    view = client.get(f"/api/v1/reports/{rid}", headers=worker).json()
    with transaction(ev.engine) as s:
        actor = ev.principal("gridworker1")
        report = s.get(Report, rid)
        intake = queries.intake_answer(s, actor, report, with_photos=True)
        built = queries.report_view(s, actor, rid)
        numbers = stats.stats(s, actor, group_by="handler")
    assert set(filed.json()) == set(intake) == set(IntakeOut.model_fields)
    assert filed.json()["photos"][0]["url"].endswith(f"/reports/{rid}/photos/{filed.json()['photos'][0]['id']}")
    assert set(view) == set(built) == set(ReportViewOut.model_fields) and view["timeline"]
    answer = client.get("/api/v1/reports/stats", params={"group_by": "handler"}, headers=worker).json()
    assert set(answer) == set(numbers) == set(StatsOut.model_fields)
    assert set(answer["groups"][0]) == set(numbers["groups"][0])
    inbox = client.get("/api/v1/notifications", headers=worker).json()
    assert {"items", "total", "page", "size", "pages", "unread"} == set(inbox)
    states = client.get("/api/v1/report-states", headers=worker).json()
    assert {"from", "action", "to", "actors", "requires_note"} == set(states["transitions"][0])


def test_open311_documents_json_xml_and_the_posted_form():
    spec = create_app(make_engine("sqlite://"), upgrade=False).openapi()
    post = spec["paths"]["/open311/v2/requests.{fmt}"]["post"]
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"service_code", "lat", "long", "address_string", "api_key"} <= set(form["properties"])
    assert "media" in post["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    paths = {path: item for path, item in spec["paths"].items() if path.startswith("/open311/")}
    routes = [(path, op) for path, item in paths.items() for op in item.values()]
    assert len(routes) == 7
    for path, op in routes:
        assert set(op["responses"]["200"]["content"]) == {"application/json", "text/xml"}, path
        assert "$ref" in str(op["responses"]["200"]["content"]["application/json"]["schema"]), path
        assert "Open311ErrorOut" in str(op["responses"]["400"]["content"]["application/json"]["schema"]), path
