"""Receiving CAP alerts (service, both databases): the specification's examples and a Chinese
rainstorm warning accepted and matched, refusals naming the element with nothing written, the
duplicate, Update then Cancel following references, dry runs, who is told and who may read."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.errors import Forbidden, Invalid, NotFound
from renxing.listing import ListQuery
from renxing.notify.models import Notification
from renxing.warning import incoming
from renxing.warning.models import IncomingAlert, IncomingAlertMatch, WarningMessage
from tests.kit.alerts_world import CAP_DIR, RAINSTORM, SPEC, alerts_world, cap

SENDER = "district@example.cn"


def ref(identifier: str, sent: str = "2025-07-03T09:30:00+08:00") -> str:
    return f"{SENDER},{identifier},{sent}"


@pytest.fixture
def aw(engine, world):
    return alerts_world(engine, world)


def count(engine, model=IncomingAlert) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def told_of_alerts(engine) -> int:
    """Inbox messages about incoming alerts (drafts proposed from them are told apart)."""
    with transaction(engine) as s:
        return s.scalar(select(func.count()).where(Notification.topic == "warning.incoming"))


def test_the_specification_s_examples_are_all_accepted(aw, engine):
    results = [aw.receive(SPEC[k].read_bytes()) for k in ("a1", "a2", "a3", "a4")]
    assert [r.msg_type for r in results] == ["Alert", "Alert", "Update", "Alert"]
    assert all(r.alert_id and not r.duplicate and r.communities == [] for r in results)  # far from here
    a3 = results[2]
    assert a3.references == [
        {
            "sender": "trinet@caltech.edu",
            "identifier": "TRI13970876.1",
            "sent": "2003-06-11T20:30:00-07:00",
            "alert_id": None,
            "state": None,
        }
    ]
    assert any("TRI13970876.1" in n for n in a3.notes)  # kept and noted, not an error
    assert any("SAME" in n for n in results[3].notes)  # a geocode system this platform does not read
    # The same Amber alert from another source: a duplicate, not a second row.
    again = aw.receive((CAP_DIR / "ibm_cap_amber_alert_example.xml").read_bytes())
    assert again.duplicate and again.alert_id == results[3].alert_id
    assert count(engine) == 4
    with transaction(engine) as s:
        a2 = s.get(IncomingAlert, results[1].alert_id)
        assert (a2.level, a2.severity, a2.state) == ("orange", "Severe", "expired")  # expired in 2003
        assert a2.sent == datetime(2003, 6, 17, 21, 57, tzinfo=UTC) and a2.sent_text == "2003-06-17T14:57:00-07:00"
        assert a2.xml.startswith('<?xml version = "1.0"') and "<polygon>38.47,-120.14" in a2.xml


def test_a_chinese_rainstorm_warning_reaches_its_community_and_its_staff(aw, engine, world):
    secretary = aw.principal("secretary")
    got = aw.receive(RAINSTORM.read_bytes(), secretary, source="upload", now=datetime(2025, 7, 3, 2, tzinfo=UTC))
    assert (got.level, got.headline) == ("orange", "南京市鼓楼区气象台发布暴雨橙色预警[Ⅱ级/严重]")
    assert got.communities == [{"unit_id": world.units["C1"], "name": "阳光社区", "how": "polygon"}]
    with transaction(engine) as s:
        row = s.get(IncomingAlert, got.alert_id)
        assert (row.language, row.event, row.state, row.source, row.received_by) == (
            "zh-CN",
            "暴雨",
            "active",
            "upload",
            world.users["secretary"],
        )
        assert row.area_desc == "鼓楼区阳光社区及周边"
        told = set(s.scalars(select(Notification.user_id).where(Notification.topic == "warning.incoming")))
        assert told == {world.users["secretary"], world.users["street"]}  # not C2's staff
        detail = incoming.present_detail(s, secretary, row)
    assert [i["language"] for i in detail["infos"]] == ["zh-CN", "en-US"]
    assert detail["parameters"] == [{"name": "预警级别", "value": "橙色"}]
    assert detail["areas"]["features"][0]["geometry"]["coordinates"][0][0] == [118.781, 32.052]
    assert detail["outlines"]["features"][0]["properties"]["name"] == "阳光社区"


REFUSED = [
    (cap(status="Bogus"), "/alert/status"),
    (
        cap(area="<areaDesc>x</areaDesc><polygon>32.05,118.78 32.05,118.80 32.07,118.80 32.07,118.78</polygon>"),
        "/alert/info[1]/area[1]/polygon[1]",
    ),
    (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</alert>", "xml"),
    (cap("x" * 201), "/alert/identifier"),
]


def test_a_refusal_names_the_element_and_writes_nothing(aw, engine):
    for data, field in REFUSED:
        with pytest.raises(Invalid) as caught:
            aw.receive(data)
        assert caught.value.errors[0].field == field and field in caught.value.message
    assert count(engine) == 0


def test_update_then_cancel_follow_their_references(aw, engine, world):
    first = aw.receive(cap("RX-1"))
    update = aw.receive(
        cap(
            "RX-2",
            msg_type="Update",
            sent="2025-07-03T10:30:00+08:00",
            headline="暴雨橙色预警",
            references=ref("RX-1"),
            area="<areaDesc>和平社区</areaDesc><circle>32.06,118.81 0.2</circle>",
        )
    )
    assert update.level == "orange" and update.references[0]["alert_id"] == first.alert_id
    assert {c["how"] for c in update.communities} == {"circle", "reference"}  # C2 by its circle, C1 from RX-1
    cancel = aw.receive(
        cap(
            "RX-3",
            msg_type="Cancel",
            sent="2025-07-03T12:00:00+08:00",
            info=False,
            references=f"{ref('RX-1')} {ref('RX-2', '2025-07-03T10:30:00+08:00')}",
        )
    )
    assert [r["state"] for r in cancel.references] == ["cancelled", "cancelled"]
    with transaction(engine) as s:
        rows = {r.identifier: r for r in s.scalars(select(IncomingAlert))}
        assert (rows["RX-1"].state, rows["RX-2"].state, rows["RX-3"].state) == ("cancelled",) * 3
        assert rows["RX-1"].superseded_by_id == rows["RX-2"].superseded_by_id == rows["RX-3"].id
        how = dict(
            s.execute(
                select(IncomingAlertMatch.unit_id, IncomingAlertMatch.how).where(
                    IncomingAlertMatch.alert_id == rows["RX-3"].id
                )
            ).all()
        )
        assert how == {world.units["C1"]: "reference", world.units["C2"]: "reference"}
        told = s.scalars(select(Notification.title).where(Notification.user_id == world.users["staff2"]))
        assert sum("Cancel" in t for t in told) == 1  # C2 heard of the end of what it heard of


def test_an_update_does_not_revive_a_cancelled_alert(aw, engine):
    aw.receive(cap("RX-1"))
    aw.receive(cap("RX-2", msg_type="Cancel", sent="2025-07-03T10:00:00+08:00", info=False, references=ref("RX-1")))
    late = aw.receive(cap("RX-3", msg_type="Update", sent="2025-07-03T11:00:00+08:00", references=ref("RX-1")))
    assert late.references[0]["state"] == "cancelled"
    with transaction(engine) as s:
        assert s.scalar(select(IncomingAlert.state).where(IncomingAlert.identifier == "RX-1")) == "cancelled"


def test_a_dry_run_writes_nothing_and_a_test_message_tells_no_one(aw, engine, world):
    got = aw.receive(RAINSTORM.read_bytes(), dry_run=True)
    assert got.dry_run and got.alert_id is None and [c["name"] for c in got.communities] == ["阳光社区"]
    assert count(engine) == 0 and count(engine, Notification) == 0
    aw.receive(RAINSTORM.read_bytes())
    assert aw.receive(RAINSTORM.read_bytes(), dry_run=True).duplicate
    told = told_of_alerts(engine)
    assert told == 2  # the secretary and the street administrator
    assert count(engine, WarningMessage) == 1  # and a draft warning proposed to the community's staff
    test = aw.receive(cap("RX-TEST", status="Test"))
    assert test.alert_id and test.communities and told_of_alerts(engine) == told
    assert count(engine, WarningMessage) == 1


def test_who_may_receive_and_who_reads_which_alert(aw, engine, world):
    with pytest.raises(Forbidden):
        aw.receive(cap(), aw.principal("gridworker1"))
    c1 = aw.receive(cap("RX-C1")).alert_id
    far = aw.receive(cap("RX-FAR", area="<areaDesc>远方</areaDesc><circle>40,116 1</circle>")).alert_id
    own = aw.receive(cap("RX-OWN", area="<areaDesc>远方</areaDesc>"), aw.principal("staff2")).alert_id

    def seen(username: str) -> set[int]:
        with transaction(engine) as s:
            page = incoming.list_alerts(s, aw.principal(username), ListQuery(size=50))
            return {r.id for r in page.items}

    assert seen("secretary") == {c1}
    assert seen("gridworker1") == {c1}  # the community around the worker's area
    assert seen("staff2") == {own}  # an unmatched alert its receiver sees
    assert seen("street") == {c1, far, own}
    with transaction(engine) as s, pytest.raises(NotFound):
        incoming.get_alert(s, aw.principal("staff2"), c1)
    with transaction(engine) as s, pytest.raises(Forbidden):
        incoming.list_alerts(s, aw.principal("volunteer1"), ListQuery())


def test_the_list_filters_by_state_and_colour_and_searches(aw, engine):
    aw.receive(cap("RX-1", headline="暴雨黄色预警"))
    aw.receive(cap("RX-2", headline="大风蓝色预警", expires="2025-07-04T09:30:00+08:00"))  # past by now
    aw.receive(cap("RX-3", msg_type="Cancel", sent="2025-07-03T12:00:00+08:00", info=False, references=ref("RX-1")))

    def ids(state=None, **filters) -> list[str]:
        q = filters.pop("q", None)
        with transaction(engine) as s:
            page = incoming.list_alerts(s, SYSTEM, ListQuery(q=q, filters=filters), state=state)
            return [r.identifier for r in page.items]

    assert ids() == ["RX-3", "RX-2", "RX-1"]  # latest sent first, then the later received
    assert ids("expired") == ["RX-2"] and ids("cancelled") == ["RX-3", "RX-1"] and ids("active") == []
    assert ids(level="blue") == ["RX-2"] and ids(q="大风") == ["RX-2"] and ids(msg_type="Cancel") == ["RX-3"]
    with pytest.raises(Invalid) as caught:
        ids("gone")
    assert caught.value.errors[0].field == "state"
    with pytest.raises(Invalid):
        ids(level="purple")
