"""Every role against every resource kind, in scope and out of scope, through the API.

The expected statuses are the policy written out by hand; a change to roles or scope
that moves any cell fails here.
"""

import pytest

from tests.conftest import login

ROLES = ["admin", "street", "secretary", "staff2", "gridworker1", "leader1", "volunteer1", "partner1", "resident1"]

# resource → role → (status in scope, status out of scope).
# In scope means area A1 / building B1 / household H1 / resident 王建国; out of scope means
# the other community's A3 / B3 / H4 / 陈芳 (for staff2, whose scope is C2, the two swap).
MATRIX = {
    "unit": {
        "admin": (200, 200),
        "street": (200, 200),
        "secretary": (200, 403),
        "staff2": (403, 200),
        "gridworker1": (200, 403),
        "leader1": (200, 403),
        "volunteer1": (200, 403),
        "partner1": (200, 403),
        "resident1": (200, 403),
    },
    "building": {
        "admin": (403, 403),
        "street": (200, 200),
        "secretary": (200, 403),
        "staff2": (403, 200),
        "gridworker1": (200, 403),
        "leader1": (200, 403),
        "volunteer1": (403, 403),
        "partner1": (403, 403),
        "resident1": (200, 403),
    },
    "household_chain": {
        "admin": (403, 403),
        "street": (200, 200),
        "secretary": (200, 404),
        "staff2": (404, 200),
        "gridworker1": (200, 404),
        "leader1": (200, 404),
        "volunteer1": (403, 403),
        "partner1": (403, 403),
        "resident1": (200, 404),
    },
    "resident": {
        "admin": (403, 403),
        "street": (200, 200),
        "secretary": (200, 404),
        "staff2": (404, 200),
        "gridworker1": (200, 404),
        "leader1": (200, 404),
        "volunteer1": (403, 403),
        "partner1": (403, 403),
        "resident1": (200, 404),
    },
    "resident_write": {
        "admin": (403, 403),
        "street": (403, 403),
        "secretary": (200, 404),
        "staff2": (404, 200),
        "gridworker1": (200, 404),
        "leader1": (403, 403),
        "volunteer1": (403, 403),
        "partner1": (403, 403),
        "resident1": (403, 403),
    },
    "resident_audit": {
        "admin": (200, 200),
        "street": (200, 200),
        "secretary": (200, 404),
        "staff2": (404, 200),
        "gridworker1": (403, 404),
        "leader1": (403, 404),
        "volunteer1": (403, 404),
        "partner1": (403, 404),
        "resident1": (403, 404),
    },
}

# Who sees which residents in the list (None: the list itself is forbidden).
LIST = {
    "admin": None,
    "street": {"王建国", "王小明", "李梅", "赵强", "陈芳"},
    "secretary": {"王建国", "王小明", "李梅", "赵强"},
    "staff2": {"陈芳"},
    "gridworker1": {"王建国", "王小明", "李梅"},
    "leader1": {"王建国", "王小明", "李梅"},
    "volunteer1": None,
    "partner1": None,
    "resident1": {"王建国", "王小明"},
}


def _request(client, world, resource: str, inside: bool, headers):
    c1 = inside
    unit = world.units["A1" if c1 else "A3"]
    building = world.units["B1" if c1 else "B3"]
    household = world.households["H1" if c1 else "H4"]
    resident = world.residents["wang" if c1 else "chen"]
    if resource == "unit":
        return client.get(f"/api/v1/grid/units/{unit}", headers=headers)
    if resource == "building":
        return client.get(f"/api/v1/grid/buildings/{building}", headers=headers)
    if resource == "household_chain":
        return client.get(f"/api/v1/grid/households/{household}/chain", headers=headers)
    if resource == "resident":
        return client.get(f"/api/v1/residents/{resident}", headers=headers)
    if resource == "resident_write":
        return client.patch(f"/api/v1/residents/{resident}", json={"notes": "已走访"}, headers=headers)
    if resource == "resident_audit":
        return client.get(f"/api/v1/residents/{resident}/audit", headers=headers)
    raise AssertionError(resource)


@pytest.mark.parametrize("role", ROLES)
def test_scope_matrix(client, world, role):
    headers = login(client, role)
    failures = []
    for resource, expected in MATRIX.items():
        in_scope, out_scope = expected[role]
        # staff2's scope is the other community, so "in" and "out" swap places for the request
        for inside, want in ((True, in_scope), (False, out_scope)):
            got = _request(client, world, resource, inside, headers).status_code
            if got != want:
                failures.append(f"{resource} {'C1' if inside else 'C2'}: expected {want}, got {got}")
    assert not failures, f"{role}: " + "; ".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_resident_list_scope(client, world, role):
    r = client.get("/api/v1/residents", params={"size": 100}, headers=login(client, role))
    if LIST[role] is None:
        assert r.status_code == 403
        return
    assert r.status_code == 200, r.text
    body = r.json()
    assert {x["name"] for x in body["items"]} == LIST[role]
    assert body["total"] == len(LIST[role])


def test_out_of_scope_answers_carry_no_data(client, world):
    r = client.get(f"/api/v1/residents/{world.residents['chen']}", headers=login(client, "gridworker1"))
    assert r.status_code == 404
    assert "陈芳" not in r.text and "1351234" not in r.text


def test_unauthenticated_is_401(client, world):
    for path in ("/api/v1/residents", f"/api/v1/grid/units/{world.units['S']}", "/api/v1/auth/me"):
        r = client.get(path)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
