"""The channel plug-ins alone (no database): the HTTP gateway against a local stub server, the log
and in-app channels; and the words a household receives."""

import logging

from hypothesis import given
from hypothesis import strategies as st

from renxing.warning import channels, wording
from tests.kit.gateway_stub import gateway


def outgoing(n: int) -> list[channels.Outgoing]:
    return [
        channels.Outgoing(delivery_id=i, household_id=100 + i, to=(f"1380000{i:04d}",), subject="s", text=f"t{i}")
        for i in range(1, n + 1)
    ]


def test_the_gateway_gets_the_documented_json_and_its_answer_decides_each_message():
    with gateway() as gw:
        plug = channels.GatewayChannel("sms", gw.url)
        batch = outgoing(channels.GATEWAY_BATCH + 2)
        results = plug.send(batch)
        assert [len(b) for b in gw.batches] == [channels.GATEWAY_BATCH, 2]  # split into the gateway's batches
        assert gw.messages[0] == {"ref": "1", "to": "13800000001", "text": "t1"}
        assert {(r.state, r.gateway_ref) for r in results[:2]} == {("sent", "gw-1"), ("sent", "gw-2")}
        gw.mode = "reject"
        assert {(r.state, r.error, r.retry) for r in plug.send(outgoing(2))} == {("failed", "bad number", True)}
        gw.mode = "partial"
        first, second = plug.send(outgoing(2))
        assert first.state == "sent" and (second.state, second.error) == ("failed", "not in the gateway's answer")
        gw.mode = "down"
        assert {r.state for r in plug.send(outgoing(3))} == {"failed"}
    down = channels.GatewayChannel("voice", gw.url).send(outgoing(1))  # the server is gone
    assert down[0].state == "failed" and down[0].error.startswith("ConnectError")
    assert channels.GatewayChannel("voice", None).send(outgoing(1))[0].error == "no voice gateway"


def test_log_delivers_without_logging_an_address_and_in_app_is_sent(caplog):
    with caplog.at_level(logging.INFO, logger="renxing.warning"):
        results = channels.LogChannel().send(outgoing(2))
    assert [r.state for r in results] == ["delivered", "delivered"]
    assert "13800000001" not in caplog.text and "household 101" in caplog.text
    assert [r.state for r in channels.InAppChannel().send(outgoing(2))] == ["sent", "sent"]


def test_the_words_carry_the_colour_the_headline_the_instruction_and_the_link():
    link = "https://rx.example/w/12.abcdefghijklmnopqrstuv"
    text = wording.message("橙色", "暴雨橙色预警", "请远离低洼地带。", link)
    assert text == "【橙色预警】暴雨橙色预警 请远离低洼地带。 收到请点：" + link
    long = wording.message("红色", "特大暴雨" * 30, "转移" * 200, link)
    assert len(long) == wording.LIMIT and long.endswith(link) and "…" in long
    assert wording.title("蓝色", "大风") == "【蓝色预警】大风"


@given(
    headline=st.text(min_size=1, max_size=400),
    instruction=st.none() | st.text(max_size=600),
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=60),
)
def test_a_message_always_fits_and_ends_with_its_whole_link(headline, instruction, token):
    link = f"https://rx.example/w/{token}"
    text = wording.message("黄色", headline, instruction, link)
    assert len(text) <= wording.LIMIT
    assert text.startswith("【黄色预警】") and text.endswith(link)
