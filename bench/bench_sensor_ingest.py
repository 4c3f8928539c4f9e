"""Sensor ingestion: a batch of 10,000 readings with the rules evaluated, and the MQTT sustained rate.

Target (issue: early warning, sensors): a batch of 10,000 readings of one device stored and run
through its rules in under 1 s, on SQLite and on PostgreSQL; the MQTT rate reported.

- Batch: water-level sensors at buildings of a synthetic street (``common.synthetic_register``)
  under two rules of their community — a threshold with hysteresis (≥ 30 cm, cleared under 25)
  and a rate of change (≥ 2 cm a minute over 10 minutes), an hour's snooze each —, a reading every
  10 s. Two scenarios: a storm every 11 hours (the rules fire and clear a few times a batch), and
  the worst case, the level through the threshold every 17 minutes, so both rules raise at their
  snooze limit (one report an hour each). Every raise is a report through the closed loop's intake
  and a warning proposed to staff, in the same transaction. Timed: ``check_batch`` + ``receive`` +
  commit, one transaction, a new 10,000-reading block each round (median of 5 after a warm-up);
  then the last block sent again (all duplicates, nothing new to evaluate); then a storm batch
  over HTTP in process (``POST /api/v1/sensors/readings`` with the device's credential through the
  app, JSON parsing and validation included).
- MQTT: the listener (``renxing.sensors.mqtt.Listener``) on the local broker, 20 devices, messages
  published at QoS 1 as fast as the listener takes them (at most 200 ahead: a broker drops what
  exceeds a subscriber's queue), one reading each and then ten readings each; the rate is
  readings stored ÷ seconds from the first publish to the last reading stored.

    python bench/bench_sensor_ingest.py                 # SQLite, PostgreSQL when reachable, MQTT
    python bench/bench_sensor_ingest.py --no-mqtt
    RENXING_BENCH_MQTT_URL=mqtt://host:1883 python bench/bench_sensor_ingest.py
"""

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as paho
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import postgres_db, sqlite_db, synthetic_register
from renxing.app import create_app
from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.grid.models import GridUnit
from renxing.sensors import devices, ingest, rule_admin
from renxing.sensors.mqtt import Listener, parse_url
from renxing.sensors.schemas import DeviceIn, RuleIn

TARGET_S = 1.0
BATCH = 10_000
ROUNDS = 5
STEP = timedelta(seconds=10)
WINDOW = 200  # messages published ahead of those taken
MQTT_URL = os.environ.get("RENXING_BENCH_MQTT_URL", "mqtt://127.0.0.1:1883")
NOW = datetime.now(UTC)


# Scenarios: readings per rise and fall through the threshold.
STORMS = 4_000  # a storm every 11 hours: the rules fire a few times a batch
WORST = 100  # through the threshold every 17 minutes: the rules raise at their snooze limit


def level(i: int, period: int = STORMS) -> float:
    """Rising and falling through 30 cm once a ``period`` of readings, with a little noise."""
    return round(20 + 14 * math.sin(i * 2 * math.pi / period) + 0.3 * math.sin(i * 1.7), 2)


def setup(engine: Engine, devices_wanted: int = 1) -> list[tuple[str, str]]:
    """A street, devices at its first buildings, two rules across the first community."""
    synthetic_register(engine, residents=2_000)
    out = []
    with transaction(engine) as s:
        community = s.scalar(select(GridUnit).where(GridUnit.level == "community").order_by(GridUnit.id))
        buildings = list(
            s.scalars(
                select(GridUnit)
                .where(GridUnit.level == "building", GridUnit.path.startswith(community.path))
                .order_by(GridUnit.id)
                .limit(devices_wanted)
            )
        )
        for n, b in enumerate(buildings):
            data = DeviceIn(
                code=f"WL-{n:03d}",
                name=f"水位{n}",
                kind="water_level",
                unit_id=b.id,
                measure_unit="cm",
                interval_seconds=10,
            )
            _d, secret = devices.register_device(s, SYSTEM, data, now=NOW - timedelta(days=60))
            out.append((data.code, secret))
        for rule in (
            RuleIn(
                name="积水",
                kind="water_level",
                unit_id=community.id,
                threshold=30,
                clear_at=25,
                level="orange",
                category="waterlogging",
            ),
            RuleIn(
                name="水位猛涨",
                kind="water_level",
                unit_id=community.id,
                rule_type="rate",
                rate_per_minute=2,
                window_minutes=10,
                level="red",
                category="waterlogging",
            ),
        ):
            rule_admin.create_rule(s, SYSTEM, rule)
    return out


def block(start: datetime, n: int = BATCH, offset: int = 0, period: int = STORMS) -> list[tuple[datetime, float]]:
    return [(start + STEP * i, level(offset + i, period)) for i in range(n)]


def timed_batch(engine: Engine, code: str, secret: str, readings) -> tuple[float, ingest.Ingested]:
    t0 = time.perf_counter()
    with transaction(engine) as s:
        device = ingest.device_for(s, code, secret)
        result = ingest.receive(s, device, ingest.check_batch(readings, NOW), now=NOW)
    return time.perf_counter() - t0, result


def rounds(engine: Engine, code: str, secret: str, period: int) -> dict:
    """A warm-up, then ROUNDS new blocks of one device, then the last block sent again."""
    start = NOW - timedelta(days=50)
    span = STEP * BATCH
    timed_batch(engine, code, secret, block(start, period=period))
    times, results = [], []
    for r in range(1, ROUNDS + 1):
        seconds, result = timed_batch(engine, code, secret, block(start + span * r, offset=BATCH * r, period=period))
        times.append(seconds)
        results.append(result)
    last = block(start + span * ROUNDS, offset=BATCH * ROUNDS, period=period)
    again, dup = timed_batch(engine, code, secret, last)
    med = statistics.median(times)
    return {
        "median_s": med,
        "max_s": max(times),
        "ratio": med / TARGET_S,
        "raised": statistics.median(r.triggered for r in results),
        "cleared": statistics.median(r.cleared for r in results),
        "duplicate_s": again,
        "duplicates": dup.duplicates,
        "next": start + span * (ROUNDS + 1),
    }


def over_http(engine: Engine, code: str, secret: str, start: datetime) -> float:
    """The app in process, the body as a device sends it: median seconds of a 10,000 batch."""
    times = []
    with TestClient(create_app(engine, upgrade=False)) as client:
        headers = {"Authorization": f"Device {code}:{secret}", "Content-Type": "application/json"}
        for r in range(ROUNDS + 1):
            readings = block(start + STEP * BATCH * r, offset=BATCH * r)
            body = json.dumps({"readings": [{"at": at.isoformat(), "value": v} for at, v in readings]})
            t0 = time.perf_counter()
            answer = client.post("/api/v1/sensors/readings", content=body, headers=headers)
            times.append(time.perf_counter() - t0)
            assert answer.status_code == 200 and answer.json()["stored"] == BATCH, answer.text
    return statistics.median(times[1:])


def bench_batches(engine: Engine, name: str) -> list[dict]:
    (storm_code, storm_secret), (worst_code, worst_secret) = setup(engine, devices_wanted=2)
    storms = rounds(engine, storm_code, storm_secret, STORMS)
    worst = rounds(engine, worst_code, worst_secret, WORST)
    http = over_http(engine, storm_code, storm_secret, storms["next"])
    return [
        {"db": name, "scenario": "a storm every 11 h", **storms, "http_s": http},
        {"db": name, "scenario": "through the threshold every 17 min", **worst, "http_s": None},
    ]


def bench_mqtt(engine: Engine, per_message: int, messages: int) -> dict:
    pairs = setup(engine, devices_wanted=20)
    template = f"bench-{uuid.uuid4().hex[:8]}/sensors/{{device}}/readings"
    listener = Listener(engine, MQTT_URL, template, client_id=f"rx-bench-{uuid.uuid4().hex[:8]}", persistent=False)
    listener.start()
    if not listener.wait_ready(10):
        listener.stop()
        raise RuntimeError(f"no MQTT broker answering at {MQTT_URL}")
    where = parse_url(MQTT_URL)
    pub = paho.Client(callback_api_version=paho.CallbackAPIVersion.VERSION2)
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect(where.host, where.port)
    pub.loop_start()
    start = NOW - timedelta(days=10)
    payloads = []
    infos_sent: list[paho.MQTTMessageInfo] = []
    for m in range(messages):
        code, secret = pairs[m % len(pairs)]
        first = m // len(pairs) * per_message
        readings = [
            {"at": (start + STEP * (first + k)).isoformat(), "value": level(first + k)} for k in range(per_message)
        ]
        payloads.append((template.format(device=code), json.dumps({"secret": secret, "readings": readings}).encode()))
    total = messages * per_message
    # At most WINDOW messages ahead of the listener: a broker queues a limited number per
    # subscriber (Mosquitto: 1,000 by default) and drops the rest, as it should.
    t0 = time.perf_counter()
    deadline = time.monotonic() + 600
    for topic, body in payloads:
        while listener.counts.messages + WINDOW <= len(infos_sent) and time.monotonic() < deadline:
            time.sleep(0.001)
        infos_sent.append(pub.publish(topic, body, qos=1))
    while listener.counts.stored + listener.counts.duplicates < total and time.monotonic() < deadline:
        if listener.counts.refused or listener.counts.failed:
            break
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    pub.loop_stop()
    pub.disconnect()
    listener.stop()
    counts = listener.counts
    return {
        "per_message": per_message,
        "messages": messages,
        "stored": counts.stored,
        "refused": counts.refused,
        "failed": counts.failed,
        "seconds": elapsed,
        "readings_per_s": counts.stored / elapsed,
        "messages_per_s": counts.messages / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-mqtt", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        with sqlite_db(tmp) as engine:
            rows.extend(bench_batches(engine, "SQLite"))
        if not args.no_postgres:
            with postgres_db() as engine:
                if engine is None:
                    print("PostgreSQL not reachable: skipped")
                else:
                    rows.extend(bench_batches(engine, "PostgreSQL"))
        print(f"\nBatch of {BATCH:,} readings of one device, two rules evaluated (target < {TARGET_S:.0f} s)")
        print(
            "| database | readings | median | worst | ratio to target | raised / cleared per batch "
            "| resend (all duplicates) | HTTP in process |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            http = f"{r['http_s'] * 1000:.0f} ms" if r["http_s"] is not None else ""
            print(
                f"| {r['db']} | {r['scenario']} | {r['median_s'] * 1000:.0f} ms | {r['max_s'] * 1000:.0f} ms | "
                f"{r['ratio']:.2f} | {r['raised']:.0f} / {r['cleared']:.0f} | "
                f"{r['duplicate_s'] * 1000:.0f} ms ({r['duplicates']:,}) | {http} |"
            )
        if args.no_mqtt:
            return
        mqtt_rows = []
        for db in ("SQLite", "PostgreSQL"):
            for per_message, messages in ((1, 4_000), (10, 2_000)):
                if db == "SQLite":
                    with sqlite_db(tmp) as engine:
                        mqtt_rows.append({"db": db, **bench_mqtt(engine, per_message, messages)})
                elif not args.no_postgres:
                    with postgres_db() as engine:
                        if engine is not None:
                            mqtt_rows.append({"db": db, **bench_mqtt(engine, per_message, messages)})
        print(f"\nMQTT sustained, {MQTT_URL}, 20 devices, QoS 1, publish → stored")
        print("| database | readings per message | messages | readings stored | seconds | readings/s | messages/s |")
        print("|---|---|---|---|---|---|---|")
        for r in mqtt_rows:
            print(
                f"| {r['db']} | {r['per_message']} | {r['messages']:,} | {r['stored']:,} | {r['seconds']:.2f} | "
                f"{r['readings_per_s']:,.0f} | {r['messages_per_s']:,.0f} |"
            )


if __name__ == "__main__":
    main()
