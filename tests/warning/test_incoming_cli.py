"""``renxing cap import`` and ``renxing cap poll`` (both databases): what each alert matches, a dry
run that stores nothing, exit status 1 naming the element of a refused file, 2 for a file that
cannot be read; an alert fetched from an address."""

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from renxing import cli
from renxing.config import get_settings
from renxing.db import transaction
from renxing.warning.models import IncomingAlert
from tests.kit.alerts_world import RAINSTORM, SPEC, alerts_world, cap


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def run(engine, world, monkeypatch):
    alerts_world(engine, world)
    monkeypatch.setattr(get_settings(), "database_url", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("RENXING_LANG", "zh")
    runner = CliRunner()
    return lambda *args: runner.invoke(cli.app, ["cap", *args])


def stored(engine) -> int:
    with transaction(engine) as s:
        return s.scalar(select(func.count()).select_from(IncomingAlert))


def test_import_prints_what_each_alert_matches(run, engine, tmp_path):
    dry = run("import", str(RAINSTORM), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert (
        "32010641600000_20250703093000" in dry.output and "试运行" in dry.output and "阳光社区 (polygon)" in dry.output
    )
    assert stored(engine) == 0

    done = run("import", str(RAINSTORM), str(SPEC["a3"]))
    assert done.exit_code == 0, done.output
    assert "Actual Alert  orange  [已接收]" in done.output and "TRI13970876.2" in done.output
    assert "没有匹配的社区" in done.output and "引用 TRI13970876.1：未收到" in done.output
    assert stored(engine) == 2
    assert "重复，未保存" in run("import", str(RAINSTORM)).output

    bad = tmp_path / "bad.xml"
    bad.write_bytes(cap(area="<areaDesc>x</areaDesc><polygon>32.05,118.78 32.05,118.80 32.07,118.80</polygon>"))
    refused = run("import", str(bad), str(SPEC["a1"]))
    assert refused.exit_code == 1
    assert "/alert/info[1]/area[1]/polygon[1]" in refused.output and "43b080713727" in refused.output
    missing = run("import", str(tmp_path / "none.xml"), str(bad))
    assert missing.exit_code == 2
    assert stored(engine) == 3


def test_import_from_an_address_and_poll(run, engine):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(RAINSTORM.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        got = run("import", f"{url}/{RAINSTORM.name}")
        assert got.exit_code == 0 and "阳光社区 (polygon)" in got.output
        assert run("import", f"{url}/missing.xml").exit_code == 2
    finally:
        server.shutdown()
        server.server_close()
    assert "没有到期的订阅源" in run("poll").output
