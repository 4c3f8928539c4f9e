"""Incoming CAP alerts on the test world: outlines and administrative codes on its units, CAP
messages made to measure, and the spec's examples and the Chinese rainstorm file by name.

The world's communities as matching sees them (lon × lat, WGS-84)::

    street S  code 320106013       outline 118.70–118.90 × 32.00–32.10
    C1 阳光社区 code 320106013001   outline 118.78–118.80 × 32.05–32.07
    C2 和平社区 code 320106013002   no outline, its point (118.81, 32.06)
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select, text

from renxing.auth import service as auth_service
from renxing.auth.models import User
from renxing.auth.principal import SYSTEM, Principal
from renxing.db import transaction
from renxing.warning import incoming
from renxing.warning.defaults import install_defaults
from tests.kit.events_world import box
from tests.kit.factories import World

CAP_DIR = Path(__file__).resolve().parents[1] / "data" / "cap"
SPEC = {name: CAP_DIR / f"v1dot2_appendix_adot{n}.xml" for n, name in enumerate(("a1", "a2", "a3", "a4"), 1)}
RAINSTORM = CAP_DIR / "cn_rainstorm_orange.xml"

# A ring inside C1 only, as CAP writes it ("lat,lon").
C1_RING = "32.052,118.781 32.052,118.797 32.068,118.797 32.068,118.781 32.052,118.781"

UNITS = {
    "S": ("320106013", box(118.70, 32.00, 118.90, 32.10), 118.80, 32.05),
    "C1": ("320106013001", box(118.78, 32.05, 118.80, 32.07), 118.79, 32.06),
    "C2": ("320106013002", None, 118.81, 32.06),
}


@dataclass
class AlertsWorld:
    engine: Engine
    w: World

    def principal(self, username: str) -> Principal:
        with transaction(self.engine) as s:
            return auth_service.principal_for(s, s.scalar(select(User).where(User.username == username)))

    def receive(self, data: bytes, actor: Principal | None = None, **options) -> incoming.Received:
        options.setdefault("source", "cli")
        with transaction(self.engine) as s:
            return incoming.receive(s, actor or SYSTEM, data, **options)


def alerts_world(engine: Engine, w: World) -> AlertsWorld:
    with engine.begin() as conn:
        for key, (code, geometry, lon, lat) in UNITS.items():
            conn.execute(
                text("UPDATE grid_units SET code = :c, geometry = :g, lon = :lon, lat = :lat WHERE id = :id"),
                {"c": code, "g": geometry, "lon": lon, "lat": lat, "id": w.units[key]},
            )
    with transaction(engine) as s:
        install_defaults(s)
    return AlertsWorld(engine, w)


def cap(
    identifier: str = "RX-1",
    *,
    sender: str = "district@example.cn",
    sent: str = "2025-07-03T09:30:00+08:00",
    msg_type: str = "Alert",
    status: str = "Actual",
    references: str | None = None,
    area: str | None = None,
    headline: str = "暴雨黄色预警",
    severity: str = "Moderate",
    expires: str | None = "2099-07-04T09:30:00+08:00",
    info: bool = True,
) -> bytes:
    """A small CAP 1.2 message; ``area`` is the inside of one <area> (default: the ring over C1)."""
    refs = f"<references>{references}</references>" if references else ""
    area_xml = area if area is not None else f"<areaDesc>阳光社区</areaDesc><polygon>{C1_RING}</polygon>"
    until = f"<expires>{expires}</expires>" if expires else ""
    body = (
        f"<info><language>zh-CN</language><category>Met</category><event>暴雨</event>"
        f"<urgency>Expected</urgency><severity>{severity}</severity><certainty>Likely</certainty>{until}"
        f"<headline>{headline}</headline><area>{area_xml}</area></info>"
        if info
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{identifier}</identifier><sender>{sender}</sender><sent>{sent}</sent>"
        f"<status>{status}</status><msgType>{msg_type}</msgType><scope>Public</scope>{refs}{body}</alert>"
    ).encode()
