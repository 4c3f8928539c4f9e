"""Requests sent straight into the ASGI app, for what the test client cannot do."""

import asyncio


def post_in_chunks(app, path: str, headers: dict[str, str], chunks) -> tuple[int, bytes, int]:
    """A POST whose body arrives in chunks without a Content-Length, as it would from a client
    (the test client gathers the whole body in memory first). Answers the status, the body and
    how many bytes the app read before it answered."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pieces, sent, got = iter(chunks), [0], {"status": 0, "body": b""}

    async def receive():
        piece = next(pieces, None)
        sent[0] += len(piece or b"")
        return {"type": "http.request", "body": piece or b"", "more_body": piece is not None}

    async def send(message):
        if message["type"] == "http.response.start":
            got["status"] = message["status"]
        elif message["type"] == "http.response.body":
            got["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return got["status"], got["body"], sent[0]
