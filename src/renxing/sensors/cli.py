"""``renxing sensors …``: Sensors from the command line."""

import logging
import signal
import threading

import typer
from rich.console import Console

from renxing.auth.principal import SYSTEM
from renxing.config import get_settings
from renxing.db import get_engine, transaction
from renxing.errors import ServiceError
from renxing.i18n import _
from renxing.sensors import devices, offline
from renxing.sensors.models import DeviceKind
from renxing.sensors.mqtt import Listener
from renxing.sensors.schemas import DeviceIn

app = typer.Typer(help="Sensors from the command line.", no_args_is_help=True)
console = Console()


@app.command("listen")
def listen_command(
    url: str | None = typer.Option(None, "--url", help="mqtt://[user:password@]host:port (default: RENXING_MQTT_URL)"),
    topic: str | None = typer.Option(None, "--topic", help="topic template with {device} (default: mqtt_topic)"),
    every: float = typer.Option(10.0, "--every", min=0.5, help="seconds between the printed counts"),
) -> None:
    """Take readings from the MQTT broker until Ctrl-C, printing the counts as they grow."""
    settings = get_settings()
    target = url or settings.mqtt_url
    if not target:
        console.print("[red]" + _("未配置 MQTT 代理地址：请用 --url 或设置 RENXING_MQTT_URL") + "[/red]")
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        listener = Listener(get_engine(), target, topic or settings.mqtt_topic, client_id=settings.mqtt_client_id)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: done.set())
    listener.start()
    console.print(_("正在监听 {topic}（Ctrl-C 结束）").format(topic=listener.topic))
    try:
        while not done.wait(every):
            console.print(listener.counts.line())
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
    console.print(listener.counts.line())


@app.command("offline")
def offline_command() -> None:
    """Mark devices silent past their interval as offline (one sweep), each reported once."""
    count = offline.run(get_engine())
    console.print(_("{count} 台设备新判定为离线").format(count=count))


@app.command("add-device")
def add_device_command(
    code: str = typer.Argument(..., help="the device's code on the wire (MQTT topic, batches)"),
    name: str = typer.Option(..., "--name"),
    kind: DeviceKind = typer.Option(..., "--kind"),
    unit_id: int = typer.Option(..., "--unit", help="the building or community it stands at"),
    interval: int = typer.Option(300, "--interval", help="seconds between its readings"),
    measure_unit: str = typer.Option("", "--unit-of-measure", help="cm, %LEL, °C …"),
) -> None:
    """Register a device as the operator and print its secret (shown this once)."""
    data = DeviceIn(
        code=code, name=name, kind=kind, unit_id=unit_id, interval_seconds=interval, measure_unit=measure_unit
    )
    try:
        with transaction(get_engine()) as session:
            device, secret = devices.register_device(session, SYSTEM, data)
            device_id = device.id
    except ServiceError as exc:
        console.print(f"[red]{exc.message}[/red]")
        for e in exc.errors:
            console.print(f"  {e.field}: {e.message}")
        raise typer.Exit(1) from exc
    console.print(_("设备 {code} 已登记（编号 {id}）").format(code=code, id=device_id))
    console.print(_("密钥（只显示这一次）：") + secret)
