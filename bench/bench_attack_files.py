"""Files built to exhaust the server, each sent to the real routes in-process.

Target (issue: security hardening, finding 5): each one refused with a 4xx, the process
growing by under 100 MB while handling it, the answer within 2 s. Every case runs in a
child process of its own (a fresh interpreter, so one case's heap does not hide the next
one's growth): it builds the small test world on SQLite, warms the route up with a harmless
request, then sends the attack while a thread samples the resident set size from
/proc/self/statm every 2 ms. A second run of the same request under tracemalloc gives the
peak of Python's own allocations (Pillow's pixel buffers are not Python objects: only the
RSS sees them). "held" is the RSS left after the answer and a garbage collection.

    python bench/bench_attack_files.py               # every case
    python bench/bench_attack_files.py png_7000      # some cases
"""

import gc
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 100.0
TARGET_S = 2.0
MB = 1024 * 1024

# ---- the attack files -------------------------------------------------------------------


def png(width: int, height: int, *, bit_depth: int = 8, colour: int = 2) -> bytes:
    """A valid PNG of one flat colour, compressed row by row without holding the pixels."""
    channels = {0: 1, 2: 3}[colour]
    row = b"\x00" + b"\x80" * ((width * channels * bit_depth + 7) // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * 64) for _ in range(height // 64)]
    parts += [comp.compress(row * (height % 64)), comp.flush()]
    idat = b"".join(parts)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


_NS = "http://schemas.openxmlformats.org/"
_PARTS = {
    "[Content_Types].xml": (
        f'<Types xmlns="{_NS}package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_NS}package/2006/relationships"><Relationship Id="rId1" '
        f'Type="{_NS}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_NS}spreadsheetml/2006/main" xmlns:r="{_NS}officeDocument/2006/relationships">'
        '<sheets><sheet name="居民" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_NS}package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_NS}officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_NS}officeDocument/2006/relationships/sharedStrings" '
        'Target="sharedStrings.xml"/></Relationships>'
    ),
}
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>身份证号</t></is></c></row>'
)


def xlsx(sheet_rows, shared=None) -> bytes:
    """A workbook written by hand, so that a part can be far bigger than the file: ``sheet_rows``
    and ``shared`` are iterables of XML text streamed into their deflated members."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in _PARTS.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body)
        members = [("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{_NS}spreadsheetml/2006/main"><sheetData>',
                    sheet_rows, "</sheetData></worksheet>")]  # fmt: skip
        members.append(("xl/sharedStrings.xml", f'<sst xmlns="{_NS}spreadsheetml/2006/main">', shared or (), "</sst>"))
        for name, head, body, tail in members:
            with z.open(name, "w", force_zip64=True) as out:
                out.write(head.encode())
                for piece in body:
                    out.write(piece.encode())
                out.write(tail.encode())
    return buf.getvalue()


def _big_text(chars: int, step: int = MB):
    for done in range(0, chars, step):
        yield "x" * min(step, chars - done)


def xlsx_big_inline_cell(chars: int = 200 * MB) -> bytes:
    body = [HEADER_ROW, '<row r="2"><c r="A2" t="inlineStr"><is><t>']
    return xlsx([*body, *_big_text(chars), "</t></is></c></row>"])


def xlsx_big_shared_cell(chars: int = 200 * MB) -> bytes:
    rows = [HEADER_ROW, '<row r="2"><c r="A2" t="s"><v>0</v></c></row>']
    return xlsx(rows, ["<si><t>", *_big_text(chars), "</t></si>"])


def xlsx_blank_rows(rows: int = 1_000_000) -> bytes:
    # Each row holds an empty cell, as a sheet formatted far down by mistake does.
    return xlsx([HEADER_ROW, *(f'<row r="{n}"><c r="A{n}"/></row>' for n in range(2, rows + 2))])


def csv_blank_rows(size: int = 19 * MB) -> bytes:
    return "姓名,身份证号\r\n".encode() + b"\r\n" * (size // 2)


def csv_big_cell(size: int = 19 * MB) -> bytes:
    return "姓名,身份证号\r\n".encode() + b"x" * size + b",1\r\n"


PHOTO_FORM = {"category": "fire_hazard", "description": "楼道堆物"}
CASES = {
    # name: (route kind, file name, builder, concurrent copies)
    "png_7000": ("photo", "big.png", lambda: png(7000, 7000), 1),
    "png_7000_x4": ("photo", "big.png", lambda: png(7000, 7000), 4),
    "png_bomb": ("photo", "bomb.png", lambda: png(40_000, 40_000, bit_depth=1, colour=0), 1),
    "xlsx_cell_inline": ("import", "cell.xlsx", xlsx_big_inline_cell, 1),
    "xlsx_cell_shared": ("import", "shared.xlsx", xlsx_big_shared_cell, 1),
    "xlsx_blank_rows": ("import", "blank.xlsx", xlsx_blank_rows, 1),
    "csv_blank_rows": ("import", "blank.csv", csv_blank_rows, 1),
    "csv_big_cell": ("import", "cell.csv", csv_big_cell, 1),
    "json_20mb": ("json", "-", lambda: b"[" + b"{}," * (20 * MB // 3) + b"{}]", 1),
    "body_200mb": ("stream", "-", lambda: b"", 1),
}

# ---- one case, in a child process -------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Sampler:
    """The highest RSS seen while it runs."""

    def __init__(self) -> None:
        self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _multipart_stream(total: int, boundary: str, fields: dict[str, str]):
    for name, value in fields.items():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    block = b"\0" * MB
    for _ in range(total // MB):
        yield block
    yield f"\r\n--{boundary}--\r\n".encode()


class Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.text = status, body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)


def post_streamed(app, path: str, headers: dict[str, str], chunks) -> Answer:
    from tests.kit.asgi import post_in_chunks

    status, body, _ = post_in_chunks(app, path, headers, chunks)
    return Answer(status, body)


def child(name: str, path: str, work: str) -> dict:
    os.environ["RENXING_MEDIA_DIR"] = os.path.join(work, "media")
    sys.path.insert(0, str(ROOT))
    from fastapi.testclient import TestClient
    from tests.kit.factories import PASSWORD, build_world

    from renxing import migrate
    from renxing.app import create_app
    from renxing.db import make_engine

    engine = make_engine(f"sqlite:///{work}/attack.db")
    migrate.upgrade(engine)
    w = build_world(engine)
    kind, file_name, _, copies = CASES[name]
    data = Path(path).read_bytes()
    app = create_app(engine, upgrade=False)
    client = TestClient(app)
    user = "resident1" if kind in ("photo", "stream") else "secretary"
    tok = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD}).json()["access_token"]
    headers = {"Authorization": f"Bearer {tok}"}
    form = {**PHOTO_FORM, "unit_id": str(w.units["B1"])}

    def send(payload: bytes, how: str = kind):
        if how == "photo":
            files = [("photos", (file_name, payload, "image/png"))]
            return client.post("/api/v1/reports", data=form, files=files, headers=headers)
        if how == "import":
            files = {"file": (file_name, payload, "application/octet-stream")}
            return client.post("/api/v1/import/residents", params={"mode": "preview"}, files=files, headers=headers)
        if how == "json":
            h = {**headers, "Content-Type": "application/json"}
            return client.post("/api/v1/reports", content=payload, headers=h)
        boundary = "benchboundary"
        h = {**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        return post_streamed(app, "/api/v1/reports", h, _multipart_stream(200 * MB, boundary, form))

    # Imports, caches and the first request's allocations are not the attack's.
    if kind == "import":
        send("姓名,身份证号\r\n".encode())
    else:
        send(png(64, 48), "photo")

    def attack() -> list:
        if copies == 1:
            return [send(data)]
        out: list = [None] * copies
        threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, send(data))) for i in range(copies)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    gc.collect()
    base = _rss()
    t0 = time.perf_counter()
    with Sampler() as sampler:
        answers = attack()
    seconds = time.perf_counter() - t0
    gc.collect()
    held = _rss() - base
    tracemalloc.start()
    attack()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    first = answers[0]
    try:
        body = first.json()
        fields = sorted({e.get("field") for e in body.get("errors", [])} - {None})
        message = body.get("detail") or ""
    except ValueError:
        fields, message = [], first.text[:80]
    return {
        "case": name,
        "bytes": len(data),
        "status": [a.status_code for a in answers],
        "fields": fields,
        "message": str(message)[:90],
        "seconds": seconds,
        "rss_peak_mb": (sampler.peak - base) / MB,
        "held_mb": held / MB,
        "traced_mb": traced_peak / MB,
    }


# ---- the parent -------------------------------------------------------------------------


def main(names: list[str]) -> None:
    names = names or list(CASES)
    print(f"attack files: target < {TARGET_MB:.0f} MB growth and < {TARGET_S:.0f} s each, refused with a 4xx")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            path = Path(tmp) / f"{name}.bin"
            path.write_bytes(CASES[name][2]())
            work = Path(tmp) / name
            work.mkdir()
            proc = subprocess.run(
                [sys.executable, __file__, "--child", name, str(path), str(work)],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            if proc.returncode != 0:
                print(f"{name:17} failed:\n{proc.stderr[-2000:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            refused = all(400 <= s < 500 for s in r["status"])
            ok = refused and r["rss_peak_mb"] < TARGET_MB and r["seconds"] < TARGET_S
            print(
                f"{name:17} {r['bytes'] / 1024:9.0f} KB  status {','.join(map(str, r['status'])):15} "
                f"{r['seconds']:6.2f} s  RSS peak +{r['rss_peak_mb']:7.1f} MB  held +{r['held_mb']:7.1f} MB  "
                f"traced peak {r['traced_mb']:7.1f} MB  {'ok' if ok else 'MISSES TARGET'}  "
                f"fields={','.join(r['fields']) or '-'}  {r['message']}"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(*sys.argv[2:5])))
    else:
        main(sys.argv[1:])
