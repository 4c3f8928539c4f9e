"""Masking per role, audit of clear reads and of writes, soft delete with undo."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from renxing.auth import audit
from renxing.auth.models import AuditEntry
from renxing.auth.policy import Role
from renxing.auth.principal import SYSTEM, Principal
from renxing.db import transaction
from renxing.errors import Forbidden
from renxing.people.masking import mask_id_number, mask_text
from renxing.people.models import Resident
from tests.kit.client import login, page_login

WANG_PHONE = "13812345678"


def _wang(client, world, user):
    r = client.get(f"/api/v1/residents/{world.residents['wang']}", headers=login(client, user))
    assert r.status_code == 200, r.text
    return r.json()


def test_masking_follows_role(client, world):
    staff = _wang(client, world, "secretary")
    assert len(staff["id_number"]) == 18 and "*" not in staff["id_number"]
    assert staff["phone"] == WANG_PHONE
    assert staff["chronic_illness"] == "高血压" and "chronic" in staff["tags"]

    grid = _wang(client, world, "gridworker1")
    assert grid["phone"] == WANG_PHONE
    assert grid["id_number"] == "*" * 14 + staff["id_number"][-4:]
    assert grid["birth_date"] is None and grid["age"] == staff["age"]
    assert grid["special_needs"] == "oxygen"

    leader = _wang(client, world, "leader1")
    assert leader["phone"] == WANG_PHONE
    assert leader["chronic_illness"] == "***" and "chronic" not in leader["tags"]

    street = _wang(client, world, "street")
    assert street["phone"] == "138****5678"
    assert street["id_number"] == "*" * 14 + staff["id_number"][-4:]
    assert street["birth_date"] is None and staff["birth_date"] == "1940-03-05"
    assert street["chronic_illness"] == "***"
    assert "aged60" in street["tags"]  # age is not health data


def test_resident_sees_own_record_in_full_and_family_masked(client, world):
    h = login(client, "resident1")
    own = client.get(f"/api/v1/residents/{world.residents['wangxm']}", headers=h).json()
    assert own["phone"] == "13912345678" and "*" not in own["id_number"]
    father = client.get(f"/api/v1/residents/{world.residents['wang']}", headers=h).json()
    assert father["phone"] == "138****5678" and father["chronic_illness"] == "***"


def test_lists_are_masked_for_everyone(client, world):
    r = client.get("/api/v1/residents", headers=login(client, "secretary"))
    for item in r.json()["items"]:
        assert "****" in item["phone"]
        assert "*" in item["id_number"]


def test_clear_reads_are_audited_and_masked_reads_are_not(client, world, engine):
    _wang(client, world, "gridworker1")
    _wang(client, world, "street")
    with transaction(engine) as s:
        reads = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "read_personal", AuditEntry.entity_id == world.residents["wang"]
            )
        ).all()
        assert [(e.actor_name, e.summary) for e in reads] == [("gridworker1", "health,phone")]


def test_write_audit_records_before_and_after(client, world):
    h = login(client, "secretary")
    rid = world.residents["li"]
    r = client.patch(f"/api/v1/residents/{rid}", json={"phone": "13700001111", "living_alone": False}, headers=h)
    assert r.status_code == 200, r.text
    trail = client.get(f"/api/v1/residents/{rid}/audit", headers=h).json()
    update = next(e for e in trail if e["action"] == "update")
    assert update["actor"] == "secretary"
    assert update["before"] == {"phone": "13712345678", "living_alone": True}
    assert update["after"] == {"phone": "13700001111", "living_alone": False}


def test_bad_input_names_the_field_and_changes_nothing(client, world):
    h = login(client, "secretary")
    rid = world.residents["li"]
    r = client.patch(f"/api/v1/residents/{rid}", json={"phone": "12345", "id_number": "320102195001091234"}, headers=h)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"phone", "id_number"}
    assert client.get(f"/api/v1/residents/{rid}", headers=h).json()["phone"] == "13712345678"
    r = client.post("/api/v1/residents", json={"household_id": "x", "name": ""}, headers=h)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} >= {"household_id", "name"}


def test_create_derives_birth_and_gender_and_rejects_duplicates(client, world):
    h = login(client, "gridworker1")
    body = {"household_id": world.households["H2"], "name": "李小红", "id_number": "11010519491231002x"}
    r = client.post("/api/v1/residents", json=body, headers=h)
    assert r.status_code == 201, r.text
    # The grid worker may not read ID numbers: the answer carries the age, not the birth date.
    assert r.json()["birth_date"] is None and r.json()["gender"] == "F" and r.json()["age"] >= 74
    staff = client.get(f"/api/v1/residents/{r.json()['id']}", headers=login(client, "secretary")).json()
    assert staff["birth_date"] == "1949-12-31"
    assert client.post("/api/v1/residents", json=body, headers=h).status_code == 409
    outside = {**body, "household_id": world.households["H4"], "id_number": None}
    assert client.post("/api/v1/residents", json=outside, headers=h).status_code == 422


def test_delete_is_undoable(client, world):
    h = login(client, "secretary")
    rid = world.residents["zhao"]
    assert client.delete(f"/api/v1/residents/{rid}", headers=h).status_code == 200
    assert client.get(f"/api/v1/residents/{rid}", headers=h).status_code == 404
    assert "赵强" not in {x["name"] for x in client.get("/api/v1/residents", headers=h).json()["items"]}
    assert client.post(f"/api/v1/residents/{rid}/restore", headers=h).status_code == 200
    assert client.get(f"/api/v1/residents/{rid}", headers=h).status_code == 200


def test_search_by_phone_and_id_only_for_roles_that_see_them(client, world):
    staff = login(client, "secretary")
    full_id = client.get(f"/api/v1/residents/{world.residents['wang']}", headers=staff).json()["id_number"]
    found = client.get("/api/v1/residents", params={"q": full_id}, headers=staff).json()["items"]
    assert [x["name"] for x in found] == ["王建国"]
    found = client.get("/api/v1/residents", params={"q": "13712345678"}, headers=staff).json()["items"]
    assert [x["name"] for x in found] == ["李梅"]
    street = login(client, "street")
    assert client.get("/api/v1/residents", params={"q": full_id}, headers=street).status_code == 422
    assert client.get("/api/v1/residents", params={"q": "王"}, headers=street).json()["total"] == 2


def test_filters_sort_and_pagination(client, world):
    h = login(client, "street")
    body = client.get("/api/v1/residents", params={"tag": "aged80", "sort": "-birth_date"}, headers=h).json()
    assert [x["name"] for x in body["items"]] == ["王建国", "陈芳"]
    page2 = client.get("/api/v1/residents", params={"size": 2, "page": 2, "sort": "name"}, headers=h).json()
    assert page2["total"] == 5 and page2["pages"] == 3 and len(page2["items"]) == 2
    assert client.get("/api/v1/residents", params={"size": 0}, headers=h).status_code == 422
    assert client.get("/api/v1/residents", params={"tag": "nope"}, headers=h).status_code == 422
    assert client.get("/api/v1/residents", params={"sort": "phone"}, headers=h).status_code == 422


def test_patch_cannot_blank_required_fields(client, world):
    h = login(client, "secretary")
    r = client.patch(f"/api/v1/residents/{world.residents['li']}", json={"name": None, "mobility": None}, headers=h)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"name", "mobility"}


def test_audit_trail_keeps_the_readers_masks(client, world):
    client.patch(
        f"/api/v1/residents/{world.residents['li']}", json={"phone": "13700001111"}, headers=login(client, "secretary")
    )
    trail = client.get(f"/api/v1/residents/{world.residents['li']}/audit", headers=login(client, "street")).json()
    update = next(e for e in trail if e["action"] == "update")
    assert update["before"] == {"phone": "137****5678"} and update["after"] == {"phone": "137****1111"}
    create = next(e for e in trail if e["action"] == "create")
    assert "*" in create["after"]["id_number"]


def test_health_tags_cannot_be_listed_by_roles_that_do_not_see_health(client, world):
    street = login(client, "street")
    assert client.get("/api/v1/residents", params={"tag": "chronic"}, headers=street).status_code == 422
    assert client.get("/api/v1/residents", params={"tag": "aged60"}, headers=street).status_code == 200
    grid = login(client, "gridworker1")
    names = [
        x["name"] for x in client.get("/api/v1/residents", params={"tag": "chronic"}, headers=grid).json()["items"]
    ]
    assert names == ["王建国"]


# ---- a masked identity cannot be rebuilt ------------------------------------------------

# Roles that may not read ID numbers, each with the residents of the test world they see
# (a resident: their father, not their own record).
MASKED_READERS = {
    "gridworker1": ("wang", "wangxm", "li"),
    "leader1": ("wang", "wangxm", "li"),
    "street": ("wang", "wangxm", "li", "zhao", "chen"),
    "resident1": ("wang",),
}


def _identities(engine, world) -> dict[str, tuple[str, date]]:
    with transaction(engine) as s:
        return {k: (s.get(Resident, v).id_number, s.get(Resident, v).birth_date) for k, v in world.residents.items()}


def _xlsx_text(content: bytes) -> str:
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    return " ".join(c.isoformat() if isinstance(c, date) else str(c) for c in cells)


def _leaks(text: str, id_number: str, born: date) -> list[str]:
    """What in ``text`` would narrow the ID down beyond its last four digits."""
    found = [s for s in (id_number[:6], id_number[:4] + "*", id_number[6:14]) if s in text]
    found += [d for d in (born.isoformat(), born.strftime("%Y%m%d"), born.strftime("%Y/%m/%d")) if d in text]
    # any five consecutive digits of the number (the masked form shows four)
    found += [id_number[i : i + 5] for i in range(len(id_number) - 4) if id_number[i : i + 5] in text]
    return found


@pytest.mark.parametrize("role", list(MASKED_READERS))
def test_masked_identity_cannot_be_rebuilt(client, world, engine, role):
    ids = _identities(engine, world)
    h = login(client, role)
    listing = client.get("/api/v1/residents", params={"size": 100}, headers=h)
    export = client.get("/api/v1/residents/export.xlsx", headers=h)
    assert listing.status_code == 200 and export.status_code == 200
    texts = {"list": listing.text, "export": _xlsx_text(export.content)}
    for item in listing.json()["items"]:
        assert item["birth_date"] is None or item["id"] == world.residents["wangxm"]
    for key in MASKED_READERS[role]:
        detail = client.get(f"/api/v1/residents/{world.residents[key]}", headers=h)
        assert detail.status_code == 200
        body = detail.json()
        assert body["id_number"] == "*" * 14 + ids[key][0][-4:] and body["birth_date"] is None
        assert body["age"] is not None and body["gender"] in ("M", "F")
        texts[f"detail {key}"] = detail.text
    page_login(client, role)
    texts["list page"] = client.get("/residents").text
    for key in MASKED_READERS[role]:
        texts[f"page {key}"] = client.get(f"/residents/{world.residents[key]}").text
    if role == "street":  # the audit trail holds the values of the creation
        client.cookies.clear()
        texts["audit"] = client.get(f"/api/v1/residents/{world.residents['wang']}/audit", headers=h).text
    leaks = {
        (where, key, leak)
        for where, text in texts.items()
        for key in MASKED_READERS[role]
        for leak in _leaks(text, *ids[key])
    }
    assert not leaks, leaks


def test_roles_that_read_ids_get_them_in_the_clear(client, world, engine):
    ids = _identities(engine, world)
    wang_id, wang_born = ids["wang"]
    staff = login(client, "secretary")
    body = client.get(f"/api/v1/residents/{world.residents['wang']}", headers=staff).json()
    assert body["id_number"] == wang_id and body["birth_date"] == wang_born.isoformat()
    # lists mask the ID for everyone, but a role that may read it keeps the birth date there
    item = next(x for x in client.get("/api/v1/residents", headers=staff).json()["items"] if x["name"] == "王建国")
    assert item["id_number"] == "*" * 14 + wang_id[-4:] and item["birth_date"] == wang_born.isoformat()
    export = _xlsx_text(client.get("/api/v1/residents/export.xlsx", headers=staff).content)
    assert wang_id in export and wang_born.isoformat() in export
    own = client.get(f"/api/v1/residents/{world.residents['wangxm']}", headers=login(client, "resident1")).json()
    assert own["id_number"] == ids["wangxm"][0] and own["birth_date"] == ids["wangxm"][1].isoformat()


def test_masking_helpers():
    assert mask_id_number("320102194003058870") == "**************8870"
    assert mask_id_number("32010240030587") == "**********0587"
    assert mask_id_number("1234") == "****"


# ---- the audit trail is masked for every reader, free text included ---------------------

NOTE = "家属王军电话13987654321，座机025-84561234，身份证110105194912310021，已走访"


def test_audit_trail_masks_free_text_and_names_by_reader(client, world):
    rid = world.residents["li"]
    r = client.patch(f"/api/v1/residents/{rid}", json={"notes": NOTE}, headers=login(client, "secretary"))
    assert r.status_code == 200, r.text

    def notes(user):
        trail = client.get(f"/api/v1/residents/{rid}/audit", headers=login(client, user)).json()
        return next(e for e in trail if e["action"] == "update")["after"]["notes"], trail

    clear, _ = notes("secretary")
    assert clear == NOTE
    for user in ("admin", "street"):
        masked, trail = notes(user)
        assert "13987654321" not in masked and "110105194912310021" not in masked
        assert "139****4321" in masked and "**************0021" in masked and "84561234" not in masked
        assert masked.endswith("已走访")
        create = next(e for e in trail if e["action"] == "create")["after"]
        assert create["birth_date"] == "***" and create["id_number"].startswith("*" * 14)
    # The system administrator reads no personal data: even names are masked in the trail.
    _, trail = notes("admin")
    assert next(e for e in trail if e["action"] == "create")["after"]["name"] == "李*"
    _, trail = notes("street")
    assert next(e for e in trail if e["action"] == "create")["after"]["name"] == "李梅"


def test_audit_trail_read_side_masks_any_entity(engine, world):
    """Report comments land in audit summaries; the read side masks them for whoever reads."""
    with transaction(engine) as s:
        audit.record(s, SYSTEM, "resolve", "report", 7, summary=NOTE, after={"note": NOTE, "phone": "13987654321"})
    with transaction(engine) as s:
        admin = Principal(user_id=world.users["admin"], username="admin", role=Role.sysadmin)
        (entry,) = audit.trail(s, admin, "report", 7)
        assert "13987654321" not in entry.summary and "110105194912310021" not in entry.summary
        assert entry.after == {"note": entry.summary, "phone": "139****4321"}
        grid = Principal(user_id=world.users["gridworker1"], username="gridworker1", role=Role.grid_worker)
        with pytest.raises(Forbidden):
            audit.trail(s, grid, "report", 7)


def test_mask_text_finds_numbers_in_chinese_text():
    assert mask_text("请联系１３９８７６５４３２１") == "请联系139****4321"
    assert mask_text("+86 139-8765-4321 张") == "139****4321 张"
    assert mask_text("身份证11010519491231002X号") == "身份证**************002X号"
    assert mask_text("证件 110105 19491231 002X") == "证件 **************002X"
    assert mask_text("证件 110105 19491231 002X", ids=False, phones=True) == "证件 110105 19491231 002X"
    # long digit runs (order numbers) and short ones (rooms, years) are left alone
    assert mask_text("订单2023010112345678901234，302室，2024年") == "订单2023010112345678901234，302室，2024年"
    assert mask_text(NOTE, ids=False) == NOTE.replace("13987654321", "139****4321").replace(
        "025-84561234", "025****1234"
    )
