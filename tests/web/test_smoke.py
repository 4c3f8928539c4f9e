from tests.kit.client import login


def test_gridworker_sees_only_own_area(client, world):
    h = login(client, "gridworker1")
    r = client.get("/api/v1/residents", headers=h)
    assert r.status_code == 200
    names = {x["name"] for x in r.json()["items"]}
    assert names == {"王建国", "王小明", "李梅"}
