"""The accounts' list: declared sorts, filters and search, one 422 naming the bad field, and
pages that neither repeat nor skip an account."""

import pytest

from tests.kit.client import login


def _users(client, headers, **params) -> dict:
    r = client.get("/api/v1/users", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_pages_in_any_sort_cover_every_account_once(client, world):
    admin = login(client, "admin")
    everyone = _users(client, admin, size=100)
    assert everyone["items"] and set(everyone["items"][0]) == {
        "id",
        "username",
        "display_name",
        "role",
        "is_active",
        "last_login_at",
    }
    names = [u["username"] for u in everyone["items"]]
    assert names == sorted(names)
    for sort in ("role", "-role", "display_name", "-username", "last_login"):
        seen = []
        for page in range(1, everyone["total"] + 1):
            seen += [u["id"] for u in _users(client, admin, sort=sort, size=1, page=page)["items"]]
        assert sorted(seen) == sorted(u["id"] for u in everyone["items"]), sort


def test_filters_and_search(client, world):
    admin = login(client, "admin")
    staff = _users(client, admin, role="community_staff")["items"]
    assert staff and {u["role"] for u in staff} == {"community_staff"}
    found = _users(client, admin, q="GRIDWORKER")["items"]
    assert found and all("gridworker" in u["username"] for u in found)
    client.post(f"/api/v1/users/{found[0]['id']}/disable", headers=admin)
    disabled = _users(client, admin, active="false")["items"]
    assert [u["id"] for u in disabled] == [found[0]["id"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "password_hash"}, "sort"), ({"role": "boss"}, "role"), ({"page": 0}, "page"), ({"size": 10**6}, "size")],
)
def test_a_bad_sort_filter_or_page_is_one_422_naming_the_field(client, world, params, field):
    r = client.get("/api/v1/users", params=params, headers=login(client, "admin"))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == [field]
