"""The partner list goes through its list spec: sorts, search, filters, one 422 naming the field,
a stable order across pages; the answer carries exactly the documented fields."""

from renxing.partners.schemas import OrganizationOut
from tests.kit.client import login
from tests.kit.drills_world import org


def test_sort_search_filter_and_pages(engine, world, client):
    w = world
    ids = [org(engine, w, f"物业{i}", "property_company") for i in range(3)]
    police = org(engine, w, "阳光派出所", "police")
    staff = login(client, "secretary")
    r = client.get("/api/v1/partners", headers=staff)
    # By kind, then name: police before property companies.
    assert [o["id"] for o in r.json()["items"]] == [police, *ids]
    assert set(r.json()["items"][0]) == set(OrganizationOut.model_fields)
    r = client.get("/api/v1/partners", params={"sort": "-name"}, headers=staff)
    assert [o["name"] for o in r.json()["items"]][-1] == "物业0"
    r = client.get("/api/v1/partners", params={"q": "派出"}, headers=staff)
    assert [o["id"] for o in r.json()["items"]] == [police]
    r = client.get("/api/v1/partners", params={"kind": "property_company", "size": 2, "page": 2}, headers=staff)
    assert r.json()["total"] == 3 and [o["id"] for o in r.json()["items"]] == [ids[2]]
    r = client.get("/api/v1/partners", params={"sort": "phone"}, headers=staff)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["sort"]
    r = client.get("/api/v1/partners", params={"kind": "bank"}, headers=staff)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["kind"]
