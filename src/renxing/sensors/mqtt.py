"""Readings over MQTT: a listener on the broker of ``Settings.mqtt_url`` that hands every message
to the same ingestion as the HTTP batches.

**Topic layout.** ``Settings.mqtt_topic``, by default ``renxing/sensors/{device}/readings``, where
``{device}`` is the device's code; the listener subscribes to it with ``+`` in that place (QoS 1).

**Payload.** UTF-8 JSON, the HTTP batch plus the device's secret::

    {"secret": "<the secret shown at registration>",
     "readings": [{"at": "2026-12-03T10:00:00+08:00", "value": 12.5}, ...]}

The secret travels in the payload because plain MQTT carries no per-device identity unless the
broker enforces one (per-device accounts and ACLs on the topic are still worth having). The same
checks as over HTTP apply: the whole message is refused when one reading is bad, a reading sent
again is stored once. A refused or broken message is logged and counted and never stops the loop.

**Delivery.** With a fixed client id (``Settings.mqtt_client_id``) the session is persistent: the
broker keeps QoS 1 messages while the platform is away and hands them over when it reconnects
(paho reconnects by itself, waiting 1 s to 30 s). A message is acknowledged once its
transaction committed; one redelivered after a crash is deduplicated by (device, moment). Run
one listener per client id (the web process, or ``renxing sensors listen``).
"""

import logging
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from sqlalchemy import Engine

from renxing.db import transaction
from renxing.errors import ServiceError
from renxing.sensors import ingest
from renxing.sensors.ingest import Ingested

log = logging.getLogger(__name__)

PLACEHOLDER = "{device}"
DEFAULT_PORTS = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


@dataclass
class Counts:
    messages: int = 0
    stored: int = 0  # new readings stored
    duplicates: int = 0
    refused: int = 0  # messages refused (bad credential, bad payload, bad reading)
    failed: int = 0  # messages that met an unexpected error

    def line(self) -> str:
        return (
            f"messages {self.messages} · stored {self.stored} · duplicates {self.duplicates} · "
            f"refused {self.refused} · failed {self.failed}"
        )


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_url(url: str) -> Broker:
    """``mqtt://[user:password@]host[:port]`` (``mqtts://`` for TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an MQTT broker URL: {url!r} (mqtt://host:1883 or mqtts://host:8883)")
    return Broker(
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        tls=parts.scheme in ("mqtts", "ssl"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def subscription(topic_template: str) -> str:
    """The MQTT filter of a topic template: ``renxing/sensors/+/readings``."""
    if topic_template.count(PLACEHOLDER) != 1:
        raise ValueError(f"the topic template must hold {PLACEHOLDER} once: {topic_template!r}")
    return topic_template.replace(PLACEHOLDER, "+")


def device_code(topic_template: str, topic: str) -> str | None:
    """The device's code in a topic of the template, or None when the topic is not one."""
    prefix, _sep, suffix = topic_template.partition(PLACEHOLDER)
    if not (topic.startswith(prefix) and topic.endswith(suffix)) or len(topic) <= len(prefix) + len(suffix):
        return None
    code = topic[len(prefix) : len(topic) - len(suffix)]
    return None if "/" in code else code


class Listener:
    """Subscribes to the readings topic and ingests every message; ``start()`` returns at once
    (the network loop runs in paho's thread and reconnects by itself), ``stop()`` ends it."""

    def __init__(
        self, engine: Engine, url: str, topic_template: str, *, client_id: str | None = None, persistent: bool = True
    ) -> None:
        self.engine = engine
        self.broker = parse_url(url)
        self.topic_template = topic_template
        self.topic = subscription(topic_template)
        self.counts = Counts()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._lock = threading.Lock()
        persistent = persistent and bool(client_id)
        self.client = paho.Client(
            callback_api_version=paho.CallbackAPIVersion.VERSION2,
            client_id=client_id or "",
            clean_session=not persistent,
        )
        if self.broker.username:
            self.client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # ---- paho's callbacks (its network thread) --------------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker %s:%s refused the connection: %s", self.broker.host, self.broker.port, reason_code)
            return
        client.subscribe(self.topic, qos=1)  # again on every reconnect
        self.connected.set()
        log.info("MQTT connected to %s:%s, subscribing to %s", self.broker.host, self.broker.port, self.topic)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if reason_code != 0:
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self.subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        self.handle(message.topic, message.payload)

    # ---- one message ----------------------------------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> Ingested | None:
        """Ingest one message in a transaction of its own; a refusal or an error is logged and
        counted, never raised (it would end paho's loop)."""
        with self._lock:
            self.counts.messages += 1
        code = device_code(self.topic_template, topic)
        try:
            if code is None:
                raise ValueError(f"topic {topic!r} is not {self.topic_template!r}")
            with transaction(self.engine) as session:
                result = ingest.receive_mqtt(session, code, payload)
        except (ServiceError, ValueError) as exc:
            fields = ", ".join(e.field for e in getattr(exc, "errors", [])[:5])
            log.warning("MQTT message on %s refused: %s %s", topic, exc, fields)
            with self._lock:
                self.counts.refused += 1
            return None
        except Exception:
            log.exception("MQTT message on %s failed", topic)
            with self._lock:
                self.counts.failed += 1
            return None
        with self._lock:
            self.counts.stored += result.stored
            self.counts.duplicates += result.duplicates
        return result

    # ---- life --------------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (a broker not yet up is retried) and start the loop."""
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once connected and subscribed (for tests, benchmarks and the command line)."""
        return self.connected.wait(timeout) and self.subscribed.wait(timeout)
