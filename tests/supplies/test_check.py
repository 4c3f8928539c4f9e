"""``renxing supplies check``: balances recomputed from the ledger; any difference named, exit 1."""

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from renxing import cli
from renxing.auth.principal import SYSTEM
from renxing.config import get_settings
from renxing.db import transaction
from renxing.supplies import movements
from renxing.supplies.check import Problem, check
from renxing.supplies.movements import ReceiptLine
from tests.kit.supplies_world import supplies_world
from tests.supplies.stock_kit import LATER


@pytest.fixture
def sw(engine, world, monkeypatch):
    sw = supplies_world(engine, world)
    it = sw.items
    with transaction(engine) as s:
        movements.receive(
            s,
            SYSTEM,
            sw.points["store"],
            [ReceiptLine(it["water"], 100, lot="W1", expiry=LATER), ReceiptLine(it["blanket"], 20)],
        )
        movements.issue(s, SYSTEM, sw.points["store"], it["blanket"], 5)
        movements.transfer(s, SYSTEM, sw.points["store"], sw.points["kits_b1"], it["water"], 30, received=True)
    monkeypatch.setattr(get_settings(), "database_url", engine.url.render_as_string(hide_password=False))
    return sw


def run() -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["supplies", "check"])
    return result.exit_code, result.output


def test_a_consistent_ledger_passes(sw):
    code, out = run()
    assert code == 0, out
    assert "流水 5 条，余额 3 行，差异 0 处" in out


def test_a_tampered_balance_is_named_and_the_exit_status_is_1(engine, sw):
    store, water, blanket = sw.points["store"], sw.items["water"], sw.items["blanket"]
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE supply_balances SET quantity = quantity + 7 WHERE point_id = :p AND item_id = :i"),
            {"p": store, "i": blanket},
        )
    code, out = run()
    assert code == 1
    assert "差异 1 处" in out
    (row,) = [line for line in out.splitlines() if "blanket" in line]
    assert [cell.strip() for cell in row.split("│")[1:7]] == [str(store), "blanket", "", "数量不符", "15", "22"]
    with engine.begin() as conn:  # a row gone, a row without entries
        conn.execute(text("DELETE FROM supply_balances WHERE point_id = :p AND item_id = :i"), {"p": store, "i": water})
        conn.execute(
            text(
                "INSERT INTO supply_balances (point_id, item_id, lot, path, quantity, updated_at) "
                "VALUES (:p, :i, 'X', '/', 3, CURRENT_TIMESTAMP)"
            ),
            {"p": sw.points["store2"], "i": water},
        )
    with transaction(engine) as s:
        found = {(d.point_id, d.lot, d.problem) for d in check(s).differences}
    assert found == {
        (store, "", Problem.different),
        (store, "W1", Problem.missing),
        (sw.points["store2"], "X", Problem.extra),
    }
    code, out = run()
    assert code == 1 and "差异 3 处" in out
