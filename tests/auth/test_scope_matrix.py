"""Every role against every resource kind, in scope and out of scope, through the API.

The expected statuses are the policy written out by hand; a change to roles or scope
that moves any cell fails here.
"""

import itertools

import pytest

from renxing.apikeys import service as apikeys
from renxing.auth import service as auth_service
from renxing.auth.models import User
from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.errors import Forbidden
from renxing.events import catalog
from renxing.events.schemas import RuleIn
from renxing.partners import service as partners
from renxing.partners.schemas import OrganizationIn
from renxing.space import layers as space
from tests.kit.client import login
from tests.kit.space_world import square

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


# ---- settings: each is changed only by the level that owns it ---------------------------
#
# Street-wide settings (categories, deadlines per severity, routing rules for every place) are
# the street administrator's; a community's settings (its routing rules, partners, teams, map
# layers, evacuation scenarios) are changed by staff whose scope covers it; API keys by the
# system administrator. The report states and transitions have no write route.
# setting → role → (status for C1, status for C2); street-wide settings answer alike for both.

STREET_ONLY = {role: (403, 403) for role in ROLES} | {"street": (200, 200)}
COMMUNITY = {
    "admin": (403, 403),
    "street": (200, 200),
    "secretary": (200, 403),
    "staff2": (403, 200),
    "gridworker1": (403, 403),
    "leader1": (403, 403),
    "volunteer1": (403, 403),
    "partner1": (403, 403),
    "resident1": (403, 403),
}
CREATED = {"street": (201, 201), "secretary": (201, 403), "staff2": (403, 201)}
# A community's existing objects outside one's scope are 404 where the role may read such objects
# at all (their existence is not shown), as for residents.
HIDDEN_OUTSIDE = {"secretary": (200, 404), "staff2": (404, 200)}
SETTINGS = {
    "category_create": {**STREET_ONLY, "street": (201, 201)},
    "category_update": STREET_ONLY,
    "severity_update": STREET_ONLY,
    "rule_street_create": {**STREET_ONLY, "street": (201, 201)},
    "rule_street_update": STREET_ONLY,
    "rule_street_delete": STREET_ONLY,
    "rule_unit_create": {**COMMUNITY, **CREATED},
    "rule_unit_update": COMMUNITY,
    "rule_unit_delete": COMMUNITY,
    "partner_create": {**COMMUNITY, **CREATED},
    "partner_update": {
        **COMMUNITY,
        **HIDDEN_OUTSIDE,
        **{r: (403, 404) for r in ("gridworker1", "leader1", "volunteer1", "partner1")},
    },
    # Teams are the community's own (the street reads them); a community outside the scope is
    # refused as a bad unit_id.
    "team_create": {**COMMUNITY, "street": (403, 403), "secretary": (201, 422), "staff2": (422, 201)},
    "shelter_create": {**COMMUNITY, **CREATED},
    "shelter_update": {**COMMUNITY, **HIDDEN_OUTSIDE},
    "shelter_delete": {**COMMUNITY, **HIDDEN_OUTSIDE},
    "scenario_create": {**COMMUNITY, **CREATED},
    "api_key_create": {role: (403, 403) for role in ROLES} | {"admin": (201, 201)},
}
_seq = itertools.count()


def _fresh(engine, world, setting: str, community: str) -> int | str | None:
    """The object a change is tried on, made anew for every request so that no answer depends
    on an earlier one."""
    n = next(_seq)
    unit_id = world.units[community]
    with transaction(engine) as s:
        if setting.startswith("rule_street"):
            return catalog.create_rule(s, SYSTEM, RuleIn(handler_kind="duty", duty="grid_worker", priority=n)).id
        if setting.startswith("rule_unit"):
            rule = RuleIn(handler_kind="duty", duty="grid_worker", unit_id=unit_id, priority=n)
            return catalog.create_rule(s, SYSTEM, rule).id
        if setting == "partner_update":
            body = OrganizationIn(unit_id=unit_id, name=f"物业{n}", kind="property_company")
            return partners.create_org(s, SYSTEM, body).id
        if setting.startswith("shelter_") and setting != "shelter_create":
            body = {"unit_id": unit_id, "name": f"公园{n}", "kind": "park", "geometry": square(100, 100, 40)}
            body |= {"effective_area_m2": 3000, "shelter_class": "III", "exits": 2}
            return space.create_feature(s, SYSTEM, "shelters", body)[1].id
    return n


def _api_key(engine, world, role: str, n: int) -> int:
    """API keys have no HTTP route (the command line issues them); the service decides."""
    with transaction(engine) as s:
        actor = auth_service.principal_for(s, s.get(User, world.users[role]))
        try:
            apikeys.create_key(s, actor, f"client-{n}")
        except Forbidden:
            return 403
        return 201


def _settings_request(client, engine, world, setting: str, community: str, headers) -> int:
    target = _fresh(engine, world, setting, community)
    unit = world.units[community]
    severity_now = None
    if setting == "severity_update":
        severity_now = next(
            x for x in client.get("/api/v1/severities", headers=headers).json() if x["severity"] == "low"
        )
    calls = {
        "category_create": lambda: client.post(
            "/api/v1/categories",
            json={"code": f"c{target}", "name_zh": "电梯", "name_en": "Lift", "default_severity": "high"},
            headers=headers,
        ),
        "category_update": lambda: client.patch(
            "/api/v1/categories/gas", json={"name_en": f"Gas {target}"}, headers=headers
        ),
        "severity_update": lambda: client.patch(
            "/api/v1/severities/low", json={"resolve_minutes": severity_now["resolve_minutes"] + 1}, headers=headers
        ),
        "rule_street_create": lambda: client.post(
            "/api/v1/routing-rules", json={"handler_kind": "duty", "duty": "grid_worker"}, headers=headers
        ),
        "rule_street_update": lambda: client.patch(
            f"/api/v1/routing-rules/{target}", json={"priority": 1}, headers=headers
        ),
        "rule_street_delete": lambda: client.delete(f"/api/v1/routing-rules/{target}", headers=headers),
        "rule_unit_create": lambda: client.post(
            "/api/v1/routing-rules",
            json={"handler_kind": "duty", "duty": "grid_worker", "unit_id": unit},
            headers=headers,
        ),
        "rule_unit_update": lambda: client.patch(
            f"/api/v1/routing-rules/{target}", json={"priority": 1}, headers=headers
        ),
        "rule_unit_delete": lambda: client.delete(f"/api/v1/routing-rules/{target}", headers=headers),
        "partner_create": lambda: client.post(
            "/api/v1/partners", json={"unit_id": unit, "name": f"社工站{target}", "kind": "social_org"}, headers=headers
        ),
        "partner_update": lambda: client.patch(
            f"/api/v1/partners/{target}", json={"services": "保洁"}, headers=headers
        ),
        "team_create": lambda: client.post(
            "/api/v1/volunteers/teams",
            json={"unit_id": unit, "name": f"互助队{target}", "kind": "silver_mutual_aid"},
            headers=headers,
        ),
        "shelter_create": lambda: client.post(
            "/api/v1/space/shelters",
            json={
                "unit_id": unit,
                "name": f"广场{target}",
                "kind": "park",
                "geometry": square(100, 100, 40),
                "effective_area_m2": 3000,
                "shelter_class": "III",
                "exits": 2,
            },
            headers=headers,
        ),
        "shelter_update": lambda: client.patch(
            f"/api/v1/space/shelters/{target}", json={"shelter_class": "I"}, headers=headers
        ),
        "shelter_delete": lambda: client.delete(f"/api/v1/space/shelters/{target}", headers=headers),
        "scenario_create": lambda: client.post(
            "/api/v1/space/scenarios",
            json={"community_id": unit, "name": f"撤离{target}", "evacuate_all": True},
            headers=headers,
        ),
    }
    return calls[setting]().status_code


@pytest.mark.parametrize("role", ROLES)
def test_settings_matrix(client, engine, world, role):
    headers = login(client, role)
    got: dict[str, tuple[int, int]] = {}
    for setting in SETTINGS:
        if setting == "api_key_create":
            got[setting] = (_api_key(engine, world, role, next(_seq)), _api_key(engine, world, role, next(_seq)))
        else:
            got[setting] = tuple(  # type: ignore[assignment]
                _settings_request(client, engine, world, setting, c, headers) for c in ("C1", "C2")
            )
    failures = [f"{k}: expected {SETTINGS[k][role]}, got {v}" for k, v in got.items() if v != SETTINGS[k][role]]
    assert not failures, f"{role}: " + "; ".join(failures)
