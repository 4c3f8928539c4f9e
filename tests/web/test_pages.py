"""The HTML pages through the real login form: scope, masking, editing with CSRF, undo, English."""

import re

from fastapi.testclient import TestClient

from tests.kit.client import CJK, page_login


def in_scope_pages(w) -> list[str]:
    u, h, r = w.units, w.households, w.residents
    return [
        "/",
        "/grid",
        f"/grid/{u['S']}",
        f"/grid/{u['A1']}",
        f"/grid/{u['B1']}",
        f"/buildings/{u['B1']}",
        f"/grid/{u['A1']}/chain",
        f"/households/{h['H1']}",
        "/residents",
        f"/residents?unit_id={u['B1']}&tag=aged60&sort=name",
        "/residents?q=王",
        f"/residents/{r['wang']}",
        "/search?q=李",
    ]


def test_every_page_renders_for_an_in_scope_user(client, world):
    page_login(client, "gridworker1")
    for url in in_scope_pages(world):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        assert "<title>" in r.text
    page_login(client, "secretary")
    for url in [*in_scope_pages(world), f"/residents/{world.residents['wang']}/audit"]:
        assert client.get(url).status_code == 200, url


def test_not_logged_in_is_sent_to_the_login_page(client, world):
    r = client.get("/residents", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


def test_out_of_scope_places_are_refused_and_people_unknown(client, world):
    page_login(client, "gridworker1")
    u = world.units
    for url in (f"/grid/{u['A2']}", f"/grid/{u['B2']}", f"/buildings/{u['B2']}", f"/grid/{u['B3']}/chain"):
        r = client.get(url)
        assert r.status_code == 403, url
        assert "无权访问" in r.text and "不在您的网格范围内" in r.text
    for url in (f"/residents/{world.residents['zhao']}", f"/households/{world.households['H3']}"):
        assert client.get(url).status_code == 404, url
    listing = client.get("/residents").text
    assert "王建国" in listing and "李梅" in listing
    assert "赵强" not in listing and "陈芳" not in listing
    tree = client.get(f"/grid/{u['P1']}").text
    assert "一片区" in tree and "二片区" not in tree


def test_a_resident_sees_only_their_household(client, world):
    page_login(client, "resident1")
    listing = client.get("/residents").text
    assert "王小明" in listing and "王建国" in listing
    assert "李梅" not in listing
    building = client.get(f"/grid/{world.units['B1']}").text
    assert f"/households/{world.households['H1']}" in building
    assert f"/households/{world.households['H2']}" not in building
    assert client.get(f"/households/{world.households['H2']}").status_code == 404
    assert client.get(f"/residents/{world.residents['li']}").status_code == 404


def test_person_page_masks_by_role(client, world):
    wang = f"/residents/{world.residents['wang']}"
    full_id = "320102194003051016"
    page_login(client, "gridworker1")
    text = client.get(wang).text
    assert "13812345678" in text
    assert full_id not in text and "*" * 14 + "1016" in text and "3201" not in text
    assert "1940-03-05" not in text and 'data-field="age"' in text
    assert "高血压" in text

    page_login(client, "secretary")
    text = client.get(wang).text
    assert full_id in text and "13812345678" in text and "1940-03-05" in text

    page_login(client, "street")
    text = client.get(wang).text
    assert "138****5678" in text and "13812345678" not in text
    assert full_id not in text and "*" * 14 + "1016" in text and "1940-03-05" not in text
    assert "高血压" not in text
    assert "/delete" not in text  # no write rights, no remove button


def test_lists_are_masked_even_for_clear_roles(client, world):
    page_login(client, "secretary")
    text = client.get("/residents").text
    assert "138****5678" in text and "13812345678" not in text


def test_search_by_phone_follows_the_role(client, world):
    page_login(client, "gridworker1")
    r = client.get("/search?q=13812345678")
    assert r.status_code == 200 and "王建国" in r.text and "李梅" not in r.text
    page_login(client, "street")
    r = client.get("/residents?q=13812345678")
    assert r.status_code == 422
    assert "您的角色不能按电话查询" in r.text
    assert "王建国" not in r.text
    # htmx swaps only 2xx answers, so the live search gets the message with 200.
    r = client.get("/residents?q=13812345678", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "您的角色不能按电话查询" in r.text
    r = client.get("/search?q=320102194003051016")
    assert r.status_code == 422 and "您的角色不能按身份证号查询" in r.text


def test_health_tags_are_not_a_filter_for_roles_that_do_not_see_health(client, world):
    page_login(client, "street")
    r = client.get("/residents?tag=chronic")
    assert r.status_code == 422 and "健康标签" in r.text and "王建国" not in r.text
    home = client.get("/").text
    assert "慢性病" not in home and "60岁以上" in home
    page_login(client, "gridworker1")
    r = client.get("/residents?tag=chronic")
    assert r.status_code == 200 and "王建国" in r.text and "李梅" not in r.text


def test_live_search_returns_only_the_results_fragment(client, world):
    page_login(client, "gridworker1")
    r = client.get("/residents?q=李", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "<html" not in r.text and 'id="results"' in r.text
    assert "李梅" in r.text and "王建国" not in r.text
    assert "/api/v1/residents/export.xlsx?q=" in r.text and "lang=zh" in r.text


def test_pagination_shows_position_and_links(client, world):
    page_login(client, "secretary")
    r = client.get("/residents?size=2&page=2&sort=name")
    assert r.status_code == 200
    assert "第 2 / 2 页，共 4 条" in r.text
    assert "page=1" in r.text


def test_edit_form_validates_and_checks_csrf(client, world):
    wang = f"/residents/{world.residents['wang']}"
    token = page_login(client, "gridworker1")
    form = {
        "name": "王建国",
        "phone": "12345",
        "mobility": "aided",
        "hukou_here": "on",
        "lives_here": "on",
        "chronic_illness": "高血压",
        "special_needs": "oxygen",
    }
    r = client.post(wang, data={**form, "csrf_token": token})
    assert r.status_code == 422
    assert "电话号码格式错误" in r.text and 'value="12345"' in r.text
    assert client.get(wang).text.count("13812345678") >= 1  # nothing written

    r = client.post(wang, data={**form, "name": "", "phone": "13812345678", "csrf_token": token})
    assert r.status_code == 422 and "必填" in r.text

    r = client.post(wang, data={**form, "phone": "13900001111"})
    assert r.status_code == 403
    r = client.post(wang, data={**form, "phone": "13900001111", "csrf_token": "forged"})
    assert r.status_code == 403

    r = client.post(wang, data={**form, "phone": "139 0000 1111", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("?saved=1")
    text = client.get(r.headers["location"]).text
    assert "13900001111" in text and "已保存" in text


def test_edit_form_shows_only_fields_the_role_sees(client, world):
    wang = f"/residents/{world.residents['wang']}"
    page_login(client, "gridworker1")
    text = client.get(wang).text
    assert 'name="phone"' in text and 'name="chronic_illness"' in text
    assert 'name="id_number"' not in text
    page_login(client, "leader1")
    assert 'name="phone"' not in client.get(wang).text  # building leaders read, they do not write


def test_remove_and_undo(client, world):
    rid = world.residents["li"]
    token = page_login(client, "gridworker1")
    assert client.post(f"/residents/{rid}/delete", data={}).status_code == 403
    r = client.post(f"/residents/{rid}/delete", data={"csrf_token": token})
    assert r.status_code == 200
    assert "居民已移除" in r.text and f"/residents/{rid}/restore" in r.text
    assert "李梅" not in client.get("/residents").text
    assert client.get(f"/residents/{rid}").status_code == 404
    r = client.post(f"/residents/{rid}/restore", data={"csrf_token": token})
    assert r.status_code == 200 and "已恢复" in r.text and "李梅" in r.text


def test_audit_trail_page_masks_values_for_the_reader(client, world):
    wang = f"/residents/{world.residents['wang']}"
    token = page_login(client, "secretary")
    client.post(
        wang,
        data={
            "name": "王建国",
            "phone": "13900001111",
            "mobility": "aided",
            "hukou_here": "on",
            "lives_here": "on",
            "id_number": "320102194003051016",
            "chronic_illness": "高血压",
            "special_needs": "oxygen",
            "csrf_token": token,
        },
    )
    text = client.get(f"{wang}/audit").text
    assert "修改" in text and "13900001111" in text and "13812345678" in text
    page_login(client, "street")
    text = client.get(f"{wang}/audit").text
    assert "修改" in text and "139****1111" in text
    assert "13900001111" not in text and "320102194003051016" not in text
    page_login(client, "gridworker1")
    assert client.get(f"{wang}/audit").status_code == 403


def test_volunteer_sees_the_grid_but_no_people(client, world):
    page_login(client, "volunteer1")
    home = client.get("/").text
    assert "阳光社区" in home and "重点人群" not in home
    building = client.get(f"/grid/{world.units['B1']}")
    assert building.status_code == 200 and "王建国" not in building.text
    assert client.get("/residents").status_code == 403
    assert client.get(f"/grid/{world.units['A1']}/chain").status_code == 200


def test_english_switch(client, world):
    page_login(client, "gridworker1")
    r = client.get("/residents?lang=en")
    assert r.status_code == 200
    assert "Residents" in r.text and "Export to Excel" in r.text and 'lang="en"' in r.text
    assert r.cookies.get("lang") == "en" or client.cookies.get("lang") == "en"
    r = client.get(f"/grid/{world.units['B1']}")
    assert "Households" in r.text and "住户" not in r.text
    r = client.get("/?lang=zh")
    assert "重点人群" in r.text


def test_no_untranslated_interface_text_in_english(client, world):
    """In English the only Chinese left on a page is data: names of places and people."""
    data = {
        "测试街道",
        "阳光社区",
        "和平社区",
        "一苑",
        "二苑",
        "一片区",
        "二片区",
        "三片区",
        "栋",
        "王建国",
        "王小明",
        "李梅",
        "赵强",
        "陈芳",
        "户主",
        "子女",
        "高血压",
        "周书记",
        "吴支书",
        "郑委员",
        "孙网格",
        "钱组长",
        "冯党员",
        "韧",
        "中文",
        "王",
        "李",
    }
    page_login(client, "secretary")
    client.get("/?lang=en")
    u = world.units
    pages = [
        *in_scope_pages(world),
        f"/residents/{world.residents['wang']}/audit",
        f"/grid/{u['C2']}",
        "/residents?q=1381",
        "/search",
        f"/grid/{u['B3']}",
        "/import",
    ]
    for url in pages:
        html = client.get(url).text
        visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
        visible = re.sub(r'\bvalue="[^"]*"', "", visible)  # form values are data
        leftovers = {run for run in CJK.findall(visible) if run not in data}
        assert not leftovers, (url, leftovers)


def _upload(client: TestClient, token: str, name: str, body: bytes, kind: str = "residents"):
    return client.post(
        "/import/preview", data={"csrf_token": token, "kind": kind}, files={"file": (name, body, "text/csv")}
    )


def test_import_preview_reports_row_column_and_reason_and_writes_nothing(client, world):
    token = page_login(client, "secretary")
    page = client.get("/import").text
    assert "/api/v1/import/residents/template.xlsx" in page and "/api/v1/import/buildings/template.xlsx" in page
    body = "姓名,楼栋,门牌号,联系电话\n张三,1栋,301,13800001234\n李四,9栋,302,12345\n".encode()
    r = _upload(client, token, "居民.csv", body)
    assert r.status_code == 422
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>', r.text)
    assert any(row == "3" and col == "楼栋" and "9栋" in why for row, col, why in rows)
    assert any(row == "3" and col == "联系电话" and "电话号码格式错误" in why for row, col, why in rows)
    assert 'name="token"' not in r.text  # nothing to confirm
    assert "张三" not in client.get("/residents").text


def test_import_preview_then_confirm(client, world):
    token = page_login(client, "secretary")
    body = "姓名,楼栋,门牌号,单元,联系电话\n张三,1栋,301,1,13800001234\n李四,1栋,302,2,13800001235\n".encode()
    r = _upload(client, token, "居民.csv", body)
    assert r.status_code == 200 and "全部校验通过" in r.text and "张三" in r.text
    assert "张三" not in client.get("/residents").text  # a preview writes nothing
    upload = re.search(r'name="token" value="([^"]+)"', r.text).group(1)

    # Another user cannot confirm this upload, and a confirmation needs the CSRF token.
    assert client.post("/import/commit", data={"token": upload}).status_code == 403
    other = page_login(client, "staff2")
    r = client.post("/import/commit", data={"csrf_token": other, "token": upload})
    assert r.status_code == 422 and "过期" in r.text

    token = page_login(client, "secretary")
    r = client.post("/import/commit", data={"csrf_token": token, "token": upload})
    assert r.status_code == 200 and "导入完成" in r.text
    listing = client.get("/residents").text
    assert "张三" in listing and "李四" in listing
    again = client.post("/import/commit", data={"csrf_token": token, "token": upload})
    assert again.status_code == 422  # one upload, one import


def test_import_is_for_staff_only(client, world):
    token = page_login(client, "gridworker1")
    assert client.get("/import").status_code == 403
    r = _upload(client, token, "x.csv", "姓名\n张三\n".encode())
    assert r.status_code == 403
    page_login(client, "secretary")
    assert client.post("/import/preview", data={"kind": "residents"}).status_code == 403


def test_unreadable_file_is_reported(client, world):
    token = page_login(client, "secretary")
    r = client.post(
        "/import/preview",
        data={"csrf_token": token, "kind": "residents"},
        files={"file": ("old.xls", b"\xd0\xcf\x11\xe0junk", "application/vnd.ms-excel")},
    )
    assert r.status_code == 422 and ".xlsx" in r.text


def test_download_links_on_pages_work(client, world):
    page_login(client, "secretary")
    html = client.get("/residents?tag=aged60").text
    export = re.search(r'href="(/api/v1/residents/export\.xlsx\?[^"]+)"', html).group(1).replace("&amp;", "&")
    r = client.get(export)
    assert r.status_code == 200 and r.content[:2] == b"PK"
    html = client.get(f"/grid/{world.units['B1']}").text
    households = re.search(r'href="(/api/v1/grid/buildings/\d+/households/export\.xlsx[^"]*)"', html).group(1)
    assert client.get(households).status_code == 200
    html = client.get("/import").text
    template = re.search(r'href="(/api/v1/import/residents/template\.xlsx)"', html).group(1)
    assert client.get(template).content[:2] == b"PK"
