"""Never a 500 for bad input: ids beyond the databases' integers, huge page numbers and year-1
dates are refused where they enter, as a 4xx naming the field (JSON for the API, the error page
for a browser, Open311's error list for Open311)."""

from typing import Annotated

import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

from renxing.app import create_app
from renxing.bounds import INT_MAX
from renxing.db import make_engine
from tests.kit.client import login

HUGE = [2**63, 2**31]  # beyond SQLite's and PostgreSQL's integer


def fields(r) -> list[str]:
    return [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize("value", HUGE)
def test_an_id_beyond_the_integer_range_in_the_path_is_a_422_naming_it(client, world, value):
    staff = login(client, "secretary")
    for path, field in [
        (f"/api/v1/residents/{value}", "resident_id"),
        (f"/api/v1/grid/units/{value}", "unit_id"),
        (f"/api/v1/reports/{value}", "report_id"),
        (f"/api/v1/care/plans/{value}", "plan_id"),
        (f"/api/v1/drills/{value}/attendance", "activity_id"),
        (f"/api/v1/grid/households/{value}/chain", "household_id"),
    ]:
        r = client.get(path, headers=staff)
        assert r.status_code == 422, (path, r.text)
        assert fields(r) == [field]


@pytest.mark.parametrize("value", HUGE)
def test_an_id_beyond_the_integer_range_in_the_query_or_body_is_a_422_naming_it(client, world, value):
    staff = login(client, "secretary")
    for path, field in [
        (f"/api/v1/residents?household_id={value}", "household_id"),
        (f"/api/v1/reports?unit_id={value}", "unit_id"),
        (f"/api/v1/care/uncovered?unit_id={value}", "unit_id"),
        (f"/api/v1/space/exposure?zones=1&zones={value}", "zones.1"),
    ]:
        r = client.get(path, headers=staff)
        assert r.status_code == 422, (path, r.text)
        assert fields(r) == [field]
    body = {"category": "fire_hazard", "description": "楼道堆物", "unit_id": value}
    r = client.post("/api/v1/reports", json=body, headers=staff)
    assert r.status_code == 422, r.text
    assert fields(r) == ["unit_id"]


def test_a_huge_page_number_is_a_422_naming_it(client, world):
    staff = login(client, "secretary")
    for path in ["/api/v1/residents", "/api/v1/reports", "/api/v1/drills", "/api/v1/notifications"]:
        r = client.get(f"{path}?page={2**40}", headers=staff)
        assert r.status_code == 422, (path, r.text)
        assert fields(r) == ["page"]
        r = client.get(f"{path}?page=1&size={2**63}", headers=staff)
        assert r.status_code == 422, (path, r.text)
        assert fields(r) == ["size"]
    assert client.get(f"/api/v1/residents?page={INT_MAX}", headers=staff).status_code == 200


def test_a_year_one_date_is_a_422_naming_it(client, world):
    staff = login(client, "secretary")
    for path, field in [
        ("/api/v1/reports?since=0001-01-01T00:00:00", "since"),
        ("/api/v1/reports?until=0001-01-01T00:00:00%2B08:00", "until"),
        ("/api/v1/drills?since=0001-01-01T00:00:00", "since"),
        ("/api/v1/reports/stats?since=9999-12-31T23:59:59-05:00", "since"),
    ]:
        r = client.get(path, headers=staff)
        assert r.status_code == 422, (path, r.text)
        assert fields(r) == [field]
    assert client.get("/api/v1/reports?since=2024-01-01T00:00:00", headers=staff).status_code == 200


def test_open311_refuses_year_one_and_ids_beyond_the_range_anonymously(client, world):
    for query, field in [
        ("start_date=0001-01-01", "start_date"),
        ("end_date=0001-01-01", "end_date"),
        ("start_date=9999-12-31T23:00:00-05:00", "start_date"),
        (f"service_request_id={2**31}", "service_request_id"),
    ]:
        r = client.get(f"/open311/v2/requests.json?{query}")
        assert r.status_code == 400, (query, r.text)
        assert any(e["description"].startswith(field) for e in r.json()), r.text
    r = client.get(f"/open311/v2/requests/{2**31}.json")
    assert r.status_code == 404, r.text
    assert client.get("/open311/v2/requests.json?start_date=2024-01-01").status_code == 200


@pytest.mark.parametrize("value", HUGE)
def test_a_drill_sign_in_with_a_huge_id_is_refused_on_the_page_and_the_api(client, world, value):
    r = client.get(f"/drills/{value}/signin?t=abcdefgh", headers={"Accept": "text/html"})
    assert r.status_code == 422, r.text
    assert "text/html" in r.headers["content-type"]
    assert "activity_id" in r.text
    r = client.post(f"/drills/{value}/signin", data={"t": "abcdefgh"}, headers={"Accept": "text/html"})
    assert r.status_code == 422
    r = client.post(f"/api/v1/drills/{value}/signin", json={"token": "abcdefgh", "name": "王小明"})
    assert r.status_code == 422, r.text
    assert fields(r) == ["activity_id"]


def _routes(routes):
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        elif hasattr(r, "original_router"):  # an included router
            yield from _routes(r.original_router.routes)


def _params(dependant):
    yield from dependant.path_params
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _params(sub)


def test_every_id_page_and_date_parameter_of_every_route_is_bounded():
    """The rule itself, pages included (they are not in the OpenAPI schema): no route reads an
    integer beyond the databases' range or a date outside years 1900..2200."""
    app = create_app(make_engine("sqlite://"), upgrade=False)
    loose = []
    for route in _routes(app.routes):
        for f in _params(route.dependant):
            ann = f.field_info.annotation
            adapter = TypeAdapter(Annotated[(ann, *f.field_info.metadata)] if f.field_info.metadata else ann)
            kind = str(ann)
            probes = [str(2**31)] if "int" in kind else ["0001-01-01", "0001-01-01T00:00:00"] if "date" in kind else []
            for probe in probes:
                sent = [probe] if "list" in kind else probe
                try:
                    got = adapter.validate_python(sent)
                except ValidationError:
                    continue
                if got != sent:  # parsed into a number or a date: accepted out of range
                    loose.append(f"{sorted(route.methods)} {route.path} {f.name}={probe}")
    assert not loose, loose
