"""The register's list: its declared sorts either way, stable pages, filters named in their
errors, and what each role may search by."""

import pytest

from tests.kit.client import login


def _page(client, headers, **params):
    return client.get("/api/v1/residents", params=params, headers=headers)


@pytest.mark.parametrize("sort", ["grid", "-grid", "id", "-id", "name", "-name", "birth_date", "-birth_date"])
def test_every_sort_pages_through_everyone_once(client, world, sort):
    staff = login(client, "secretary")
    total = _page(client, staff).json()["total"]
    seen = []
    for page in range(1, total + 1):
        r = _page(client, staff, sort=sort, size=1, page=page)
        assert r.status_code == 200, r.text
        seen += [row["id"] for row in r.json()["items"]]
    assert len(seen) == len(set(seen)) == total


def test_birth_date_sorts_oldest_first_and_back(client, world):
    staff = login(client, "secretary")
    oldest = [r["birth_date"] for r in _page(client, staff, sort="birth_date").json()["items"]]
    youngest = [r["birth_date"] for r in _page(client, staff, sort="-birth_date").json()["items"]]
    assert oldest == sorted(oldest) and youngest == sorted(youngest, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "phone"}, "sort"), ({"tag": "rich"}, "tag"), ({"page": 0}, "page"), ({"q": "x" * 101}, "q")],
)
def test_a_bad_sort_filter_or_search_is_one_422_naming_the_field(client, world, params, field):
    r = _page(client, login(client, "secretary"), **params)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_phone_and_id_searches_follow_the_clear_fields(client, world):
    staff, leader, street = (login(client, u) for u in ("secretary", "leader1", "street"))
    by_phone = _page(client, staff, q="13812345678").json()["items"]
    assert [r["name"] for r in by_phone] == ["王建国"]
    assert [r["name"] for r in _page(client, leader, q="5678").json()["items"]]  # a building leader calls people
    for who in (street,):
        r = _page(client, who, q="13812345678")
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "q"
    by_name = _page(client, staff, q="王").json()["items"]
    assert {r["name"] for r in by_name} == {"王建国", "王小明"}


def test_a_health_tag_is_refused_to_roles_that_do_not_see_health(client, world):
    assert _page(client, login(client, "secretary"), tag="bedridden").status_code == 200
    r = _page(client, login(client, "leader1"), tag="bedridden")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "tag"
