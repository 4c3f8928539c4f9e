"""Readings over MQTT, end to end against the real broker on 127.0.0.1:1883 (Mosquitto): published
with paho, taken by the listener, stored through the same ingestion as HTTP. Bad messages are
counted and the loop goes on. Without a local broker the test skips; under CI=true it fails."""

import json
import os
import socket
import time
import uuid
from datetime import timedelta

import paho.mqtt.client as paho
import pytest
from sqlalchemy import func, select

from renxing.db import transaction, utcnow
from renxing.events.models import Report
from renxing.sensors.models import SensorReading
from renxing.sensors.mqtt import Listener, device_code, parse_url, subscription
from tests.kit.sensors_world import batch, sensors_world

BROKER = os.environ.get("RENXING_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def broker() -> str:
    where = parse_url(BROKER)
    try:
        socket.create_connection((where.host, where.port), timeout=2).close()
    except OSError as exc:
        reason = f"no MQTT broker at {BROKER} (apt-get install mosquitto): {exc}"
        if IN_CI:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)
    return BROKER


def _wait(check, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    return check()


def test_topics_and_urls():
    template = "renxing/sensors/{device}/readings"
    assert subscription(template) == "renxing/sensors/+/readings"
    assert device_code(template, "renxing/sensors/WL-1/readings") == "WL-1"
    assert device_code(template, "renxing/sensors/a/b/readings") is None
    assert device_code(template, "other/WL-1/readings") is None
    url = parse_url("mqtt://iot:p%40ss@broker.local")
    assert (url.host, url.port, url.username, url.password, url.tls) == ("broker.local", 1883, "iot", "p@ss", False)
    assert parse_url("mqtts://broker.local").port == 8883
    with pytest.raises(ValueError):
        parse_url("http://broker.local")


def test_readings_published_to_the_broker_are_stored_and_raise_the_rules(ev, broker):
    sw = sensors_world(ev)
    template = f"test-{uuid.uuid4().hex[:8]}/sensors/{{device}}/readings"
    listener = Listener(ev.engine, broker, template, client_id=f"rx-test-{uuid.uuid4().hex[:8]}", persistent=False)
    listener.start()
    publisher = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2)
    where = parse_url(broker)
    publisher.connect(where.host, where.port)
    publisher.loop_start()
    try:
        assert listener.wait_ready(), "the listener did not subscribe"

        def send(code: str, payload: bytes | dict) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            publisher.publish(template.format(device=code), data, qos=1).wait_for_publish(5)

        code, secret = sw.codes["wl_b1"], sw.secrets["wl_b1"]
        send(code, {"secret": "wrong", **batch([1.0])})  # refused: not its secret
        send(code, b"{not json")  # refused: not JSON
        send(code, {"secret": secret, "readings": [{"at": "2026-01-01T00:00:00", "value": 1}]})  # no offset
        start = utcnow() - timedelta(minutes=10)
        send(code, {"secret": secret, **batch([12.0, 18.0, 33.0], start=start)})
        send(code, {"secret": secret, **batch([12.0, 18.0, 33.0], start=start)})  # redelivered: stored once

        def stored() -> int:
            with transaction(ev.engine) as s:
                return s.scalar(select(func.count()).select_from(SensorReading)) or 0

        assert _wait(lambda: listener.counts.duplicates == 3), listener.counts
        assert stored() == 3
        assert (listener.counts.messages, listener.counts.refused, listener.counts.failed) == (5, 3, 0)
        with transaction(ev.engine) as s:
            (report,) = s.scalars(select(Report))
            assert report.category_code == "waterlogging" and report.handler_user_id == ev.uid("gridworker1")
            assert s.scalar(select(SensorReading.via).limit(1)) == "mqtt"
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        listener.stop()
