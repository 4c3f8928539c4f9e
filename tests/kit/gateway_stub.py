"""A local SMS/voice gateway for tests: a tiny HTTP server in a thread that records each posted
batch and answers by the documented contract (``renxing.warning.channels``).

``mode``: ``accept`` (every message accepted, gateway id ``gw-<ref>``), ``reject`` (every
message rejected), ``down`` (HTTP 503), ``partial`` (answers for the first message only).
"""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Gateway:
    url: str = ""
    mode: str = "accept"
    batches: list[list[dict]] = field(default_factory=list)

    @property
    def messages(self) -> list[dict]:
        return [m for b in self.batches for m in b]

    def answer(self, messages: list[dict]) -> tuple[int, dict]:
        if self.mode == "down":
            return 503, {"error": "maintenance"}
        if self.mode == "reject":
            return 200, {"results": [{"ref": m["ref"], "status": "rejected", "error": "bad number"} for m in messages]}
        shown = messages[:1] if self.mode == "partial" else messages
        return 200, {"results": [{"ref": m["ref"], "id": f"gw-{m['ref']}", "status": "accepted"} for m in shown]}


@contextmanager
def gateway() -> Iterator[Gateway]:
    gw = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            gw.batches.append(body["messages"])
            status, answer = gw.answer(body["messages"])
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gw.url = f"http://127.0.0.1:{server.server_port}/send"
    try:
        yield gw
    finally:
        server.shutdown()
        server.server_close()
