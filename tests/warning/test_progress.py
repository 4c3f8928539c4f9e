"""A warning's live progress per building and area, and the unreached, ordered and masked by role."""

import pytest
from sqlalchemy import select

from renxing.auth.models import AuditEntry
from renxing.db import transaction
from renxing.errors import NotFound
from renxing.listing import ListQuery
from renxing.warning import acks, climbing, progress
from tests.kit.acks_world import deliver, later, sent_warning
from tests.kit.client import login
from tests.kit.warning_world import warning_world


@pytest.fixture
def ww(engine):
    return warning_world(engine)


@pytest.fixture
def sent(ww):
    """C1's six households: H1 delivered, H2 acknowledged by link, H3 sent, H5 failed, H6 and H7 queued."""
    s = sent_warning(ww)
    deliver(ww, s, "delivered", "H1", channel="sms")
    deliver(ww, s, "sent", "H3")
    deliver(ww, s, "failed", "H5", error="no_phone")
    with transaction(ww.engine) as session:
        acks.acknowledge_link(session, s.tokens["H2"], now=later(3))
    return s


def test_progress_per_building_area_and_channel(client, ww, sent):
    climbing.run(ww.engine, later(30))
    with transaction(ww.engine) as s:
        p = progress.progress(s, ww.principal("secretary"), sent.id)
        assert (p.households, p.acknowledged, p.percent) == (6, 1, 16.7)
        assert p.states == {"acknowledged": 1, "delivered": 1, "sent": 1, "queued": 2, "failed": 1}
        by_name = {b.name: b for b in p.buildings}
        assert by_name["1栋"].states == {"acknowledged": 1, "delivered": 1, "sent": 0, "queued": 0, "failed": 0}
        assert by_name["2栋"].states == {"acknowledged": 0, "delivered": 0, "sent": 1, "queued": 2, "failed": 1}
        assert (by_name["1栋"].percent, by_name["2栋"].unreached) == (50.0, 4)
        assert by_name["1栋"].area_id == ww.units["A1"] and by_name["1栋"].lat == pytest.approx(32.06)
        assert {a.name: (a.households, a.acknowledged) for a in p.areas} == {"一片区": (2, 1), "二片区": (4, 0)}
        assert p.channels["sms"] == {"acknowledged": 1, "delivered": 1, "sent": 1, "queued": 2, "failed": 1}
        assert p.channels["in_app"]["failed"] == 1 and p.channels["in_app"]["acknowledged"] == 1
        assert [(c.rung, c.households) for c in p.climbs] == [(3, 5)]
        with pytest.raises(NotFound):  # another community's staff
            progress.progress(s, ww.principal("staff2"), sent.id)

    r = client.get(f"/api/v1/warning/warnings/{sent.id}/progress", headers=login(client, "gridworker1"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"] == {"households": 6, "acknowledged": 1, "percent": 16.7}
    assert [b["name"] for b in body["buildings"]] == ["1栋", "2栋"]
    assert body["climbs"][0]["rung"] == 3 and body["climbs"][0]["recipients"] == 3
    assert "王" not in r.text and "13812345678" not in r.text  # counts only
    assert (
        client.get(f"/api/v1/warning/warnings/{sent.id}/progress", headers=login(client, "resident1")).status_code
        == 403
    )


def _unreached(ww, username, sent, **filters):
    with transaction(ww.engine) as s:
        return progress.unreached(s, ww.principal(username), sent.id, ListQuery(filters=filters))


def _phone_reads(ww) -> list[AuditEntry]:
    with transaction(ww.engine) as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == "read_personal", AuditEntry.entity == "warning"))
        )


def test_unreached_by_vulnerability_then_building_masked_by_role(client, ww, sent):
    h = ww.households
    staff = _unreached(ww, "secretary", sent)
    assert staff.total == 5 and h["H2"] not in [u.household_id for u in staff.items]
    keys = [(-u.vulnerability, u.building_id) for u in staff.items]
    assert keys == sorted(keys) and staff.items[0].vulnerability > 0
    assert staff.items[-1].vulnerability == 0  # H3 or H7: nobody vulnerable
    first = {u.household_id: u for u in staff.items}
    assert (first[h["H1"]].unit_no, first[h["H1"]].room, first[h["H1"]].phone) == ("1", "101", "13812345678")
    assert first[h["H5"]].door_to_door and first[h["H5"]].phone is None  # bedridden, no phone: go to the door
    assert first[h["H1"]].channels == {"in_app": "queued", "sms": "delivered"}
    reads = _phone_reads(ww)
    assert len(reads) == 1 and reads[0].entity_id == sent.id and h["H1"] in reads[0].after["households"]

    street = _unreached(ww, "street", sent)  # sees the list, never who or where exactly
    assert street.total == 5
    assert {(u.unit_no, u.room, u.phone, u.vulnerability) for u in street.items} == {("*", "***", None, None)}
    assert len(_phone_reads(ww)) == 1

    worker = _unreached(ww, "gridworker1", sent)  # area A1: building B1 only
    assert [u.household_id for u in worker.items] == [h["H1"]]
    assert worker.items[0].phone == "13812345678" and worker.items[0].vulnerability is not None
    leader = _unreached(ww, "leader1", sent)  # calls: the phone, not health
    assert leader.items[0].phone and leader.items[0].vulnerability is None
    assert len(_phone_reads(ww)) == 3

    doors = _unreached(ww, "secretary", sent, door_to_door=True)
    assert doors.items and all(u.door_to_door for u in doors.items)
    in_b2 = _unreached(ww, "secretary", sent, building_id=ww.units["B2"])
    assert {u.household_id for u in in_b2.items} == {h["H3"], h["H5"], h["H6"], h["H7"]}

    headers = login(client, "street")
    r = client.get(f"/api/v1/warning/warnings/{sent.id}/unreached?size=2", headers=headers)
    assert r.status_code == 200 and r.json()["total"] == 5 and len(r.json()["items"]) == 2
    assert r.json()["items"][0]["room"] == "***"
    url = f"/api/v1/warning/warnings/{sent.id}/unreached"
    assert client.get(url + "?sort=name", headers=headers).status_code == 422
    assert client.get(url + "?door_to_door=true", headers=headers).json()["total"] == doors.total
