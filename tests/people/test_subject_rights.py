"""A person's requests under PIPL: a full copy of their data, erasure everywhere, retention."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from renxing.auth.models import AuditEntry, User
from renxing.auth.personal_data import REDACTED
from renxing.auth.principal import SYSTEM
from renxing.db import transaction, utcnow
from renxing.events.models import ReportPublicText, reports
from renxing.events.personal_data import ERASED_TEXT
from renxing.people import subject_rights
from renxing.people.models import Resident
from renxing.people.subject import PersonalData
from renxing.people.subject_rights import purge_expired
from tests.kit.client import login


def _file_report(client, headers, household, text):
    r = client.post(
        "/api/v1/reports",
        json={"category": "sanitation", "description": text, "household_id": household},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_export_gives_everything_in_the_clear_to_staff_only(client, world, engine):
    wang = world.residents["wang"]
    staff = login(client, "secretary")
    client.get(f"/api/v1/residents/{wang}", headers=staff)  # one clear read, to appear in the copy
    r = client.get(f"/api/v1/residents/{wang}/personal-data", headers=staff)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["resident"]["phone"] == "13812345678"
    assert len(data["resident"]["id_number"]) == 18 and "*" not in data["resident"]["id_number"]
    assert data["household"]["room"]
    assert any(a["action"] == "read_personal" and a["actor"] == "secretary" for a in data["accesses"])
    for user in ("gridworker1", "street", "admin", "leader1"):
        assert client.get(f"/api/v1/residents/{wang}/personal-data", headers=login(client, user)).status_code in (
            403,
            404,
        )
    with transaction(engine) as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "pipl_export", AuditEntry.entity_id == wang))


def test_erasure_anonymises_the_person_their_reports_and_their_audit_values(client, world, engine):
    me = world.residents["wangxm"]
    resident = login(client, "resident1")
    filed = _file_report(client, resident, world.households["H1"], "我家3栋302室门口垃圾没人清，电话13912345678")
    staff = login(client, "secretary")
    client.patch(f"/api/v1/residents/{me}", json={"notes": "需要上门"}, headers=staff)
    published = client.put(f"/api/v1/reports/{filed}/public-text", json={"text": "门口垃圾待清运"}, headers=staff)
    assert published.status_code == 200, published.text

    wrong = client.post(f"/api/v1/residents/{me}/erase", json={"confirm_name": "别人"}, headers=staff)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "confirm_name"
    with transaction(engine) as s:
        assert s.get(Resident, me).phone == "13912345678"  # nothing half-done

    r = client.post(f"/api/v1/residents/{me}/erase", json={"confirm_name": "王小明"}, headers=staff)
    assert r.status_code == 200, r.text
    assert r.json()["accounts"] == 1 and r.json()["reports"] == 1
    with transaction(engine) as s:
        row = s.get(Resident, me)
        assert row.name.startswith("已删除居民") and row.phone is None and row.id_number is None
        assert row.birth_date is None and row.notes is None and row.deleted_at is not None
        assert not s.scalar(select(User.is_active).where(User.resident_id == me))
        text = s.execute(select(reports.c.description).where(reports.c.id == filed)).scalar()
        assert text == ERASED_TEXT
        assert s.get(ReportPublicText, filed) is None
        for e in s.scalars(select(AuditEntry).where(AuditEntry.entity == "resident", AuditEntry.entity_id == me)):
            for values in (e.before or {}, e.after or {}):
                assert set(values.values()) <= {REDACTED}, (e.action, values)
    # The account's sessions are gone: the resident's token no longer works.
    assert client.get("/api/v1/residents", headers=resident).status_code == 401


def test_purge_anonymises_long_removed_residents_and_drops_old_audit(world, engine):
    wang = world.residents["wang"]
    with transaction(engine) as s:
        s.get(Resident, wang).deleted_at = utcnow() - timedelta(days=200)
        s.add(
            AuditEntry(actor_name="x", action="update", entity="unit", entity_id=1, at=utcnow() - timedelta(days=2000))
        )
    with transaction(engine) as s:
        counts = purge_expired(s, audit_days=1095, deleted_resident_days=180)
    assert counts == {"audit_entries": 1, "residents_anonymised": 1, "idempotency_keys": 0}
    with transaction(engine) as s:
        assert s.get(Resident, wang).id_number is None
        counts = purge_expired(s, audit_days=1095, deleted_resident_days=180)
    assert counts == {"audit_entries": 0, "residents_anonymised": 0, "idempotency_keys": 0}


def test_cli_export_and_erase(world, engine, tmp_path, monkeypatch):
    from renxing import cli

    monkeypatch.setattr("renxing.people.cli.get_engine", lambda: engine)
    out = tmp_path / "wang.json"
    runner = CliRunner()
    r = runner.invoke(cli.app, ["privacy", "export", str(world.residents["wang"]), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "13812345678" in out.read_text(encoding="utf-8")
    r = runner.invoke(cli.app, ["privacy", "erase", str(world.residents["wang"]), "--confirm-name", "nobody"])
    assert r.exit_code == 2 and "confirm_name" in r.output


# Tables that hold a resident's id, by the domain whose provider answers for them.
ANSWERED = {"users": "auth", "care_plans": "care", "drill_attendance": "drills", "ratings": "evaluation"}
ANSWERED |= {"team_members": "volunteers"}
# The responsibility chain names duty holders for escalation; erasing one is a change of duty,
# which staff make on the chain, not a side effect of a person's request.
LEFT_TO_STAFF = {"responsibilities"}


def test_every_table_about_a_resident_is_answered_for_by_its_domain():
    import renxing.models  # noqa: F401 - every table on the metadata
    from renxing.db import Base

    about_residents = {
        table.name
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "residents"
    }
    assert about_residents == set(ANSWERED) | LEFT_TO_STAFF
    assert set(ANSWERED.values()) <= {p.domain for p in subject_rights.PROVIDERS}


def test_each_domain_is_asked_and_a_failing_one_undoes_the_whole_erasure(world, engine, monkeypatch):
    wang = world.residents["wang"]
    asked: list[tuple[str, int, tuple[int, ...]]] = []

    def export(session, subject):
        asked.append(("export", subject.resident_id, subject.account_ids))
        return {"extra": [{"resident": subject.resident_id}]}

    def refuse(session, subject):
        asked.append(("erase", subject.resident_id, subject.account_ids))
        raise RuntimeError("this domain cannot forget yet")

    extra = PersonalData("extra", export=export, erase=refuse)
    monkeypatch.setattr(subject_rights, "PROVIDERS", (*subject_rights.PROVIDERS, extra))
    with transaction(engine) as s:
        copy = subject_rights.export_personal_data(s, SYSTEM, wang)
    assert copy["extra"] == [{"resident": wang}] and {"resident", "accounts", "reports", "care_plans"} <= set(copy)
    with pytest.raises(RuntimeError), transaction(engine) as s:
        subject_rights.erase_personal_data(s, SYSTEM, wang, confirm_name="王建国")
    assert [a[0] for a in asked] == ["export", "erase"] and all(a[1] == wang for a in asked)
    with transaction(engine) as s:
        row = s.get(Resident, wang)
        assert row.name == "王建国" and row.phone == "13812345678" and row.deleted_at is None


def test_the_answers_keep_their_shape(client, world):
    staff = login(client, "secretary")
    wang = world.residents["wang"]
    copy = client.get(f"/api/v1/residents/{wang}/personal-data", headers=staff).json()
    assert list(copy) == [
        "resident",
        "household",
        "accounts",
        "care_plans",
        "care_visits",
        "drill_attendance",
        "ratings",
        "volunteer_teams",
        "reports",
        "accesses",
    ]
    erased = client.post(f"/api/v1/residents/{wang}/erase", json={"confirm_name": "王建国"}, headers=staff)
    assert erased.status_code == 200, erased.text
    assert set(erased.json()) == {"accounts", "reports", "care_visits", "ratings", "audit_entries"}
