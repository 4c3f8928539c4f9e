"""Agreements with partners: statuses from the dates, validation naming each field, scope,
partners limited to their own, termination and renewal keeping the old agreement, and the
renewal reminders (once per end date, in the inbox after commit)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from renxing import cli
from renxing.auth.models import AuditEntry, User
from renxing.auth.service import principal_for
from renxing.config import get_settings
from renxing.db import transaction
from renxing.errors import Conflict, Forbidden, Invalid, NotFound
from renxing.listing import ListQuery
from renxing.notify.models import Notification
from renxing.supplies import agreements, directory, reminders
from renxing.supplies.drawing import agreement_for_draw
from renxing.supplies.models import Agreement, StoragePoint
from renxing.supplies.schemas import AgreementIn, AgreementPatch, ContactIn, RenewIn
from tests.kit.supplies_world import supplies_world

TODAY = date.today()  # the day the test world's dates count from (the platform's may be the next)


def acting(engine, username):
    with transaction(engine) as s:
        return principal_for(s, s.scalar(select(User).where(User.username == username)))


def fields(exc) -> set[str]:
    return {e.field for e in exc.value.errors}


@pytest.fixture
def sw(engine, world):
    return supplies_world(engine, world)


def body(sw, **extra) -> dict:
    return {
        "org_id": sw.orgs["school"],
        "number": "XY-2026-09",
        "title": "帐篷与棉被代储",
        "valid_from": TODAY - timedelta(days=10),
        "valid_until": TODAY + timedelta(days=355),
        "draw_share": 0.8,
        "draw_when": "alert",
        "activation": "接社区通知后 2 小时内开库",
        "contact_chain": [{"name": "张校长", "role": "校长", "phone": "13800000001"}],
        "lines": [
            {"item_id": sw.items["blanket"], "quantity": 200, "point_id": sw.points["school"]},
            {"item_id": sw.items["tent"], "quantity": 10},
        ],
        **extra,
    }


def statuses(engine, actor, **filters) -> list[str]:
    with transaction(engine) as s:
        page = agreements.list_agreements(s, actor, ListQuery(size=50, filters=filters), today=TODAY)
        return [r["number"] for r in agreements.present_rows(s, page.items, TODAY)]


def test_status_comes_from_the_dates(engine, world, sw):
    staff = acting(engine, "secretary")
    with transaction(engine) as s:
        agreements.create_agreement(s, staff, AgreementIn(**body(sw)))
        agreements.create_agreement(
            s,
            staff,
            AgreementIn(**body(sw, number="XY-2027-01", valid_from=TODAY + timedelta(days=20), lines=[])),
        )
        rows = {r["number"]: r for r in agreements.present_rows(s, list(s.scalars(select(Agreement))), TODAY)}
    assert {n: r["status"] for n, r in rows.items()} == {
        "XY-2026-01": "expiring",
        "XY-2025-07": "expired",
        "XY-2026-09": "in_force",
        "XY-2027-01": "upcoming",
    }
    assert rows["XY-2026-01"]["days_left"] == 20 and rows["XY-2025-07"]["status_label"] == "已过期"
    for status, expected in [
        ("expiring", ["XY-2026-01"]),
        ("expired", ["XY-2025-07"]),
        ("in_force", ["XY-2026-09"]),
        ("upcoming", ["XY-2027-01"]),
        ("terminated", []),
    ]:
        assert statuses(engine, staff, status=status) == expected, status
    with pytest.raises(Invalid) as exc:
        statuses(engine, staff, status="lapsed")
    assert fields(exc) == {"status"}
    with transaction(engine) as s:
        assert directory.agreements_in_force_count(s, world.units["C1"], TODAY) == 2
        assert [p.name for p in directory.points_of_community(s, world.units["C1"])][:1] == ["阳光社区应急物资储备点"]


def test_validation_names_each_field(engine, world, sw):
    staff = acting(engine, "secretary")
    other_site = sw.points["market"]  # the market's, not the school's
    cases = [
        ({"valid_until": TODAY - timedelta(days=20)}, {"valid_until"}),
        ({"contact_chain": [ContactIn(name="张", phone="12345")]}, {"contact_chain.0.phone"}),
        ({"lines": [{"item_id": sw.items["blanket"], "quantity": 5, "point_id": other_site}]}, {"lines.0.point_id"}),
        (
            {"lines": [{"item_id": sw.items["blanket"], "quantity": 5, "point_id": sw.points["store"]}]},
            {"lines.0.point_id"},
        ),
        ({"lines": [{"item_id": 999_999, "quantity": 5}]}, {"lines.0.item_id"}),
        (
            {"lines": [{"item_id": sw.items["tent"], "quantity": 5}, {"item_id": sw.items["tent"], "quantity": 1}]},
            {"lines.1.item_id"},
        ),
    ]
    for extra, expected in cases:
        with transaction(engine) as s, pytest.raises(Invalid) as exc:
            agreements.create_agreement(s, staff, AgreementIn(**body(sw, **extra)))
        assert fields(exc) == expected, extra
    with transaction(engine) as s, pytest.raises(Conflict) as twice:
        agreements.create_agreement(s, staff, AgreementIn(**body(sw, number="XY-2026-01")))
    assert fields(twice) == {"number"}
    with transaction(engine) as s, pytest.raises(Invalid) as exc:
        agreements.create_agreement(s, staff, AgreementIn(**body(sw, org_id=999_999)))
    assert fields(exc) == {"org_id"}


def test_scope_and_partners_see_and_edit_only_their_own(engine, world, sw):
    staff2, partner = acting(engine, "staff2"), acting(engine, "partner1")
    assert statuses(engine, staff2) == []
    assert statuses(engine, partner) == ["XY-2026-01"]
    assert statuses(engine, acting(engine, "gridworker1")) == ["XY-2025-07", "XY-2026-01"]
    with transaction(engine) as s:
        with pytest.raises(NotFound):
            agreements.get_agreement(s, staff2, sw.agreements["market"])
        with pytest.raises(Forbidden):
            agreements.create_agreement(s, staff2, AgreementIn(**body(sw)))
        with pytest.raises(NotFound):
            agreements.get_agreement(s, partner, sw.agreements["school"])
        chain = [
            ContactIn(name="王店长", role="店长", phone="139 0000 0002"),
            ContactIn(name="值班室", phone="025-52000009"),
        ]
        a = agreements.update_agreement(
            s, partner, sw.agreements["market"], AgreementPatch(contact_chain=chain, note="夜间打值班室")
        )
        assert [c["phone"] for c in a.contact_chain] == ["13900000002", "025-52000009"]
    for patch, expected in [
        (AgreementPatch(valid_until=TODAY + timedelta(days=400)), {"valid_until"}),
        (AgreementPatch(draw_share=1, note="x"), {"draw_share"}),
    ]:
        with transaction(engine) as s, pytest.raises(Forbidden) as exc:
            agreements.update_agreement(s, partner, sw.agreements["market"], patch)
        assert fields(exc) == expected
    with transaction(engine) as s:
        for step in (
            lambda: agreements.terminate(s, partner, sw.agreements["market"]),
            lambda: agreements.renew(s, partner, sw.agreements["market"], RenewIn()),
            lambda: agreements.create_agreement(
                s, partner, AgreementIn(**body(sw, org_id=sw.orgs["market"], lines=[]))
            ),
        ):
            with pytest.raises(Forbidden):
                step()
        with pytest.raises(Forbidden):
            agreements.update_agreement(
                s, acting(engine, "gridworker1"), sw.agreements["market"], AgreementPatch(note="x")
            )


def test_staff_change_lines_and_dates(engine, world, sw):
    staff = acting(engine, "secretary")
    with transaction(engine) as s:
        s.get(Agreement, sw.agreements["market"]).reminded_on = TODAY
        a = agreements.update_agreement(
            s,
            staff,
            sw.agreements["market"],
            AgreementPatch(
                valid_until=TODAY + timedelta(days=25), lines=[{"item_id": sw.items["water"], "quantity": 3000}]
            ),
        )
        assert a.reminded_on is None  # a new end date gets its own reminder
        shown = agreements.present(s, a, TODAY)
        assert [(x["item"], x["quantity"], x["point"]) for x in shown["lines"]] == [("饮用水", 3000, None)]
        with pytest.raises(Invalid) as exc:
            agreements.update_agreement(s, staff, a.id, AgreementPatch(valid_from=TODAY + timedelta(days=30)))
        assert fields(exc) == {"valid_until"}
        trail = s.scalar(
            select(AuditEntry).where(AuditEntry.entity == "supply_agreement", AuditEntry.action == "update")
        )
        assert trail.after["lines"] == [[sw.items["water"], 3000, None]]


def test_terminate_keeps_the_agreement_and_stops_drawing(engine, world, sw):
    staff = acting(engine, "secretary")
    with transaction(engine) as s:
        a = agreements.terminate(s, staff, sw.agreements["market"], "超市停业")
        assert agreements.present(s, a, TODAY)["status"] == "terminated"
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "terminate"))
        assert (entry.entity_id, entry.summary) == (a.id, "超市停业")
        with pytest.raises(Conflict):
            agreements.terminate(s, staff, a.id)
        with pytest.raises(Conflict):
            agreements.update_agreement(s, staff, a.id, AgreementPatch(title="x"))
        with pytest.raises(Invalid) as exc:
            agreement_for_draw(s, s.get(StoragePoint, sw.points["market"]), TODAY, None)
        assert fields(exc) == {"agreement_id"}
    assert statuses(engine, staff, status="terminated") == ["XY-2026-01"]


def test_renewal_copies_the_lines_and_keeps_the_old_one(engine, world, sw):
    staff = acting(engine, "secretary")
    old_until = TODAY + timedelta(days=20)
    with transaction(engine) as s:
        new = agreements.renew(s, staff, sw.agreements["market"], RenewIn())
        shown = agreements.present(s, new, TODAY)
        old = agreements.present(s, s.get(Agreement, sw.agreements["market"]), TODAY)
        with pytest.raises(Invalid) as exc:
            agreements.renew(s, staff, sw.agreements["market"], RenewIn(number="R2", valid_until=old_until))
        assert fields(exc) == {"valid_until"}
        with pytest.raises(Conflict):  # the default number is taken by the first renewal
            agreements.renew(s, staff, sw.agreements["market"], RenewIn())
    assert shown["valid_from"] == old_until + timedelta(days=1)
    assert shown["valid_until"] - shown["valid_from"] == old_until - (TODAY - timedelta(days=300))
    assert shown["number"] == f"XY-2026-01-{shown['valid_from'].year}" and shown["status"] == "upcoming"
    assert [(x["item"], x["quantity"]) for x in shown["lines"]] == [("方便食品", 500), ("饮用水", 2000)]
    assert shown["contact_chain"] == old["contact_chain"] and shown["draw_share"] == 0.5
    assert old["status"] == "expiring" and old["renewed_by"] == new.id


def inbox(engine, user_id) -> list[str]:
    with transaction(engine) as s:
        return list(s.scalars(select(Notification.title).where(Notification.user_id == user_id)))


def test_reminders_go_out_once_per_end_date_after_commit(engine, world, sw, media):
    secretary, partner = world.users["secretary"], world.users["partner1"]
    with transaction(engine) as s:
        assert reminders.remind_expiring(s, TODAY) == [sw.agreements["market"]]  # not the expired school's
        assert inbox(engine, secretary) == []  # told once the reminder's transaction commits
    assert len(inbox(engine, secretary)) == 1 and len(inbox(engine, partner)) == 1
    assert "苏果社区超市" in inbox(engine, partner)[0] and "XY-2026-01" in inbox(engine, partner)[0]
    assert inbox(engine, world.users["staff2"]) == []
    assert reminders.run(engine, TODAY) == 0
    assert reminders.run(engine, TODAY + timedelta(days=5)) == 0  # the same end date: not again
    with transaction(engine) as s:
        assert s.get(Agreement, sw.agreements["market"]).reminded_on == TODAY
        # Moved later, still within the window: the new end date is reminded.
        agreements.update_agreement(
            s,
            acting(engine, "secretary"),
            sw.agreements["market"],
            AgreementPatch(valid_until=TODAY + timedelta(days=28)),
        )
    assert reminders.run(engine, TODAY) == 1
    assert len(inbox(engine, partner)) == 2
    # A renewed agreement is not reminded.
    with transaction(engine) as s:
        a = s.get(Agreement, sw.agreements["market"])
        a.reminded_on = None
        agreements.renew(s, acting(engine, "secretary"), a.id, RenewIn())
    assert reminders.run(engine, TODAY) == 0


def test_the_command_and_the_web_process_send_the_reminders(engine, world, sw, media, monkeypatch):
    import time

    from fastapi.testclient import TestClient

    from renxing.app import create_app

    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setattr(get_settings(), "database_url", url)
    result = CliRunner().invoke(cli.app, ["supplies", "remind"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    assert len(inbox(engine, world.users["secretary"])) == 1
    with transaction(engine) as s:
        s.get(Agreement, sw.agreements["market"]).reminded_on = None
        s.execute(Notification.__table__.delete())
    monkeypatch.setattr(get_settings(), "scheduler", True)
    monkeypatch.setattr(get_settings(), "sweep_seconds", 1)
    with TestClient(create_app(engine, upgrade=False)):
        deadline = time.monotonic() + 10
        while not inbox(engine, world.users["partner1"]) and time.monotonic() < deadline:
            time.sleep(0.1)
    with transaction(engine) as s:
        assert (
            s.scalar(select(func.count()).select_from(Notification).where(Notification.topic == "supplies.agreement"))
            == 2
        )
