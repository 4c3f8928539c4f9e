"""One request cannot take the server's memory: photos are bounded by their header before any
decoding, spreadsheets by what they unpack to, their cells and their rows (blank ones too)
before parsing, request bodies while they arrive. Each refusal is a 4xx naming the field,
and nothing is written. The files are small and made here; the benchmark
(bench/bench_attack_files.py) sends the full-size ones and measures memory and time."""

import io
import struct
import zipfile
import zlib
from functools import cache

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageFile
from sqlalchemy import func, select

from renxing import importing
from renxing.config import get_settings
from renxing.db import transaction
from renxing.events.models import Report, ReportPhoto
from renxing.exporting import to_xlsx
from renxing.people.models import Resident
from tests.kit.asgi import post_in_chunks
from tests.kit.client import login

# ---- files made to cost more than they weigh ---------------------------------------------


@cache
def flat_png(width: int, height: int, bit_depth: int = 8, colour: int = 2) -> bytes:
    """A valid PNG of one colour, compressed row by row: 7000×7000 weighs 150 KB."""
    row = b"\x00" + b"\x80" * ((width * {0: 1, 2: 3}[colour] * bit_depth + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


NS = "http://schemas.openxmlformats.org"
PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{NS}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="r1" '
    f'Type="{NS}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook xmlns="{NS}/spreadsheetml/2006/main" '
    f'xmlns:r="{NS}/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="r1"/>'
    "</sheets></workbook>",
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{NS}/package/2006/relationships">'
    f'<Relationship Id="r1" Type="{NS}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="r2" Type="{NS}/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>",
}
HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>身份证号</t></is></c></row>'
)


def xlsx(rows: str, shared: str = "") -> bytes:
    """A workbook written by hand, so a part can unpack to far more than the file weighs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in PARTS.items():
            z.writestr(name, body)
        z.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{NS}/spreadsheetml/2006/main"><sheetData>{HEADER}{rows}</sheetData></worksheet>',
        )
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{NS}/spreadsheetml/2006/main">{shared}</sst>')
    return buf.getvalue()


def inline(row: int, text: str) -> str:
    return f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>{text}</t></is></c></row>'


@pytest.fixture
def no_decoding(monkeypatch):
    """Any attempt to decode pixels fails the test."""

    def refuse(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.fixture
def no_parsing(monkeypatch):
    """Any attempt to open the workbook with openpyxl fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(importing, "load_workbook", refuse)


def count(engine, model) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


# ---- photos ----------------------------------------------------------------------------


def _file_report(client, ev, files, username="resident1"):
    form = {"category": "fire_hazard", "description": "楼道堆物", "unit_id": str(ev.w.units["B1"])}
    return client.post("/api/v1/reports", data=form, files=files, headers=login(client, username))


def test_a_photo_of_too_many_pixels_is_refused_from_its_header(ev, media, client, no_decoding):
    # 150 KB on the wire, 196 MB once decoded: it used to be accepted and decoded three times over.
    before = (ev.count(Report), ev.count(ReportPhoto))
    r = _file_report(client, ev, [("photos", ("big.png", flat_png(7000, 7000), "image/png"))])
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["field"] == "photos" and "4000 万像素" in error["message"]
    assert (ev.count(Report), ev.count(ReportPhoto)) == before
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_decompression_bomb_is_refused_as_too_many_pixels(ev, media, client, no_decoding):
    bomb = flat_png(40_000, 40_000, bit_depth=1, colour=0)  # 1.6 gigapixels in 200 KB
    r = _file_report(client, ev, [("photos", ("bomb.png", bomb, "image/png"))])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photos"
    assert "像素过多" in r.json()["errors"][0]["message"]


def test_the_pixel_limit_is_a_setting(ev, media, client, monkeypatch, no_decoding):
    monkeypatch.setattr(get_settings(), "max_image_pixels", 1_000_000)
    r = _file_report(client, ev, [("photos", ("a.png", flat_png(1200, 1000), "image/png"))])
    assert r.status_code == 422 and "100 万像素" in r.json()["errors"][0]["message"]


def test_the_grid_workers_check_in_photo_goes_through_the_same_check(ev, media, client, no_decoding):
    rid = ev.submit("resident1", now=None)
    worker = login(client, "gridworker1")
    assert client.post(f"/api/v1/reports/{rid}/accept", json={}, headers=worker).status_code == 200
    r = client.post(
        f"/api/v1/reports/{rid}/check_in",
        data={"lat": "32.06", "long": "118.785"},
        files={"photo": ("scene.png", flat_png(7000, 7000), "image/png")},
        headers=worker,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "photo"
    assert ev.report(rid).state == "accepted" and ev.count(ReportPhoto) == 0


def test_a_png_too_big_to_decode_whole_is_refused(ev, media, client, no_decoding):
    # 20 MP is under the pixel limit, but PNG cannot be decoded at a smaller scale: 80 MB of pixels.
    r = _file_report(client, ev, [("photos", ("wide.png", flat_png(5000, 4000), "image/png"))])
    assert r.status_code == 422 and "4096×4096" in r.json()["errors"][0]["message"]


def test_a_large_jpeg_is_decoded_at_reduced_scale_and_stored_smaller(ev, media, client, monkeypatch):
    sizes = []
    original = ImageFile.ImageFile.load

    def spy(self):
        sizes.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    jpeg = io.BytesIO()
    Image.new("RGB", (6000, 4000), (200, 120, 40)).save(jpeg, "JPEG", quality=50)
    r = _file_report(client, ev, [("photos", ("big.jpg", jpeg.getvalue(), "image/jpeg"))])
    assert r.status_code == 201, r.text
    assert sizes[0] == (3000, 2000)  # the decoder's 1/2 scale, not 24 MP
    with transaction(ev.engine) as s:
        photo = s.scalars(select(ReportPhoto)).one()
    assert (photo.width, photo.height) == (2048, 1365)


# ---- spreadsheets ----------------------------------------------------------------------


def _import(client, data: bytes, name: str, user: str = "secretary"):
    files = {"file": (name, data, "application/octet-stream")}
    return client.post("/api/v1/import/residents", params={"mode": "commit"}, files=files, headers=login(client, user))


def _refused(r, *words: str) -> str:
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["field"] == "file", error
    for word in words:
        assert word in error["message"], error["message"]
    return error["message"]


def test_a_workbook_that_unpacks_too_far_is_refused_before_parsing(client, world, engine, monkeypatch, no_parsing):
    monkeypatch.setattr(get_settings(), "max_import_uncompressed_bytes", 1024 * 1024)
    before = count(engine, Resident)
    r = _import(client, xlsx(inline(2, "x" * 2_000_000)), "cell.xlsx")  # 2 MB of one cell in a few KB
    _refused(r, "解压后超过 1 MB")
    assert count(engine, Resident) == before


def test_a_part_packed_too_tight_is_refused(client, world, no_parsing):
    r = _import(client, xlsx(inline(2, "x" * 100_000) * 30), "tight.xlsx")  # 3 MB packed 1:1000
    _refused(r, "压缩比")


def test_a_huge_shared_string_is_refused_before_it_is_loaded(client, world, no_parsing):
    runs = "".join(f"<r><t>{'x' * 1000}</t></r>" for _ in range(300))  # 300,000 characters in small runs
    data = xlsx('<row r="2"><c r="A2" t="s"><v>0</v></c></row>', f"<si>{runs}</si>")
    _refused(_import(client, data, "shared.xlsx"), "32767", "32767 个字")


def test_a_long_text_run_is_refused_before_parsing(client, world, no_parsing):
    _refused(_import(client, xlsx(inline(2, "y" * 300_000)), "run.xlsx"), "32767")


def test_a_cell_longer_than_excel_allows_is_named(client, world, engine):
    before = count(engine, Resident)
    message = _refused(_import(client, xlsx(inline(2, "张" * 40_000)), "cell.xlsx"))
    assert "第 2 行第 1 列" in message
    assert count(engine, Resident) == before


def test_blank_xlsx_rows_count_against_the_limit_before_parsing(no_parsing):
    blank = "".join(f'<row r="{n}"><c r="A{n}"/></row>' for n in range(2, 1_003))
    with pytest.raises(importing.SheetError, match="空行也计入"):
        importing.read_table(xlsx(blank), "blank.xlsx", max_rows=1000)


def test_a_gap_of_rows_counts_against_the_limit(client, world):
    # Two rows in the file, the second numbered 1,000,000: openpyxl hands out every row between.
    _refused(_import(client, xlsx(inline(1_000_000, "王")), "gap.xlsx"), "100000", "空行也计入")


def test_blank_csv_rows_count_against_the_limit(client, world, engine):
    before = count(engine, Resident)
    data = "姓名,身份证号\r\n".encode() + b"\r\n" * 100_001  # 200 KB of blank lines
    _refused(_import(client, data, "blank.csv"), "100000")
    assert count(engine, Resident) == before


def test_a_csv_line_too_long_is_refused(client, world):
    _refused(_import(client, "姓名,身份证号\r\n".encode() + b"x," * 70_000, "long.csv"), "131068")


def test_a_csv_is_still_read_in_either_encoding():
    text = "姓名,身份证号\r\n王建国,110101194003050012\r\n"
    for data in (text.encode("utf-8"), text.encode("gb18030"), b"\xef\xbb\xbf" + text.encode()):
        table = importing.read_table(data, "a.csv")
        assert table.headers == ["姓名", "身份证号"] and table.rows == [(2, ["王建国", "110101194003050012"])]


def test_the_attendance_upload_is_read_no_further_than_its_limit(client, world, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_import_bytes", 64 * 1024)
    data = "姓名,手机号\r\n".encode() + "王建国,13812345678\r\n".encode() * 10_000
    r = client.post(
        "/api/v1/drills/1/attendance/upload",
        files={"file": ("list.csv", data, "text/csv")},
        headers=login(client, "secretary"),
    )
    assert r.status_code in (413, 422), r.text
    assert r.json()["errors"][0]["field"] == "file" and "MB" in r.json()["errors"][0]["message"]


# ---- request bodies --------------------------------------------------------------------


def test_a_json_body_over_the_limit_is_refused_unread(client, world):
    body = b"[" + b"{}," * 1_000_000 + b"{}]"  # 3 MB that would unpack to some 70 MB of objects
    h = {**login(client, "resident1"), "Content-Type": "application/json"}
    r = client.post("/api/v1/reports", content=body, headers=h)
    assert r.status_code == 413 and r.json()["errors"][0]["field"] == "body"


def test_a_chunked_upload_is_cut_off_at_its_limit(client, world, engine, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_import_bytes", 1024 * 1024)
    boundary = "limitboundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'.encode()
    chunks = [head, *(b"x" * 65536 for _ in range(1600))]  # 100 MB offered, no Content-Length
    h = {**login(client, "secretary"), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, body, received = post_in_chunks(client.app, "/api/v1/import/residents", h, chunks)
    assert status == 413 and b'"field":"file"' in body
    assert received <= 2 * 1024 * 1024 + 65536 + len(head)  # the limit (the 2 MB default) and one chunk
    assert count(engine, Resident) == 5


def test_a_page_upload_over_the_limit_gets_a_page(client, world, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_import_bytes", 1024 * 1024)
    r = client.post(
        "/import/preview",
        files={"file": ("a.csv", b"x" * (2 * 1024 * 1024), "text/csv")},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 413 and "text/html" in r.headers["content-type"] and "1 MB" in r.text


# ---- the export's sheet writer -----------------------------------------------------------


def test_the_sheet_writer_keeps_types_and_drops_what_xml_cannot_carry():
    from datetime import date

    data = to_xlsx(["姓名", "出生日期", "数"], [["=1+1 <b>&\x01", date(1950, 1, 9), 3], [" 空格 ", None, True]])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    assert [list(r) for r in ws.iter_rows(min_row=2, values_only=True)] == [
        ["=1+1 <b>&", ws["B2"].value, 3],
        [" 空格 ", None, True],
    ]
    assert ws["A2"].data_type == "s" and ws["B2"].value.date() == date(1950, 1, 9)
    assert ws["B2"].number_format == "yyyy-mm-dd"
