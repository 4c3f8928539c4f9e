"""A small cloud warehouse on the test world: two partners with agreements (one in force and
ending within 30 days, one expired), a community store, partner sites, household kits of a
building, a store in the second community; the seeded catalogue's items by code."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from renxing.db import transaction
from renxing.partners.models import Organization
from renxing.supplies.models import Agreement, AgreementLine, StoragePoint, SupplyItem


@dataclass
class SuppliesWorld:
    items: dict[str, int] = field(default_factory=dict)  # catalogue code → id
    orgs: dict[str, int] = field(default_factory=dict)  # market (account partner1), school
    points: dict[str, int] = field(default_factory=dict)  # store, market, school, kits_b1, store2
    agreements: dict[str, int] = field(default_factory=dict)  # market (in force), school (expired)


def supplies_world(engine, w, today: date | None = None) -> SuppliesWorld:
    today = today or date.today()
    sw = SuppliesWorld()
    with transaction(engine) as s:
        sw.items = dict(s.execute(select(SupplyItem.code, SupplyItem.id)).all())
        c1 = f"/{w.units['S']}/{w.units['C1']}/"
        c2 = f"/{w.units['S']}/{w.units['C2']}/"
        for key, name, kind, user in [
            ("market", "苏果社区超市", "enterprise", w.users["partner1"]),
            ("school", "桂花小学", "school", None),
        ]:
            org = Organization(unit_id=w.units["C1"], path=c1, name=name, kind=kind, user_id=user, active=True)
            s.add(org)
            s.flush()
            sw.orgs[key] = org.id
        b1_path = f"{c1}{w.units['P1']}/{w.units['A1']}/{w.units['B1']}/"
        specs = [
            ("store", "阳光社区应急物资储备点", "community_store", w.units["C1"], c1, {"lon": 118.790, "lat": 32.060}),
            (
                "market",
                "苏果超市仓库",
                "partner_site",
                w.units["C1"],
                c1,
                {"org_id": sw.orgs["market"], "lon": 118.795, "lat": 32.062},
            ),
            (
                "school",
                "桂花小学器材室",
                "partner_site",
                w.units["C1"],
                c1,
                {"org_id": sw.orgs["school"], "lon": 118.785, "lat": 32.058},
            ),
            (
                "kits_b1",
                "1栋家庭应急包",
                "household_kits",
                w.units["C1"],
                b1_path,
                {"building_id": w.units["B1"], "households": 2},
            ),
            ("store2", "和平社区储备点", "community_store", w.units["C2"], c2, {"lon": 118.80, "lat": 32.07}),
        ]
        for key, name, kind, unit_id, path, extra in specs:
            p = StoragePoint(unit_id=unit_id, path=path, name=name, kind=kind, active=True, **extra)
            s.add(p)
            s.flush()
            sw.points[key] = p.id
        market = Agreement(
            org_id=sw.orgs["market"],
            unit_id=w.units["C1"],
            path=c1,
            number="XY-2026-01",
            title="应急物资代储协议",
            valid_from=today - timedelta(days=300),
            valid_until=today + timedelta(days=20),
            draw_share=0.5,
            draw_when="emergency",
            contact_chain=[{"name": "刘经理", "role": "店长", "phone": "025-52000001"}],
        )
        school = Agreement(
            org_id=sw.orgs["school"],
            unit_id=w.units["C1"],
            path=c1,
            number="XY-2025-07",
            title="避难场所与物资协议",
            valid_from=today - timedelta(days=400),
            valid_until=today - timedelta(days=1),
            draw_share=1.0,
            draw_when="any",
            contact_chain=[],
        )
        s.add_all([market, school])
        s.flush()
        sw.agreements = {"market": market.id, "school": school.id}
        s.add_all(
            [
                AgreementLine(
                    agreement_id=market.id, item_id=sw.items["water"], quantity=2000, point_id=sw.points["market"]
                ),
                AgreementLine(
                    agreement_id=market.id, item_id=sw.items["food"], quantity=500, point_id=sw.points["market"]
                ),
                AgreementLine(
                    agreement_id=school.id, item_id=sw.items["blanket"], quantity=100, point_id=sw.points["school"]
                ),
            ]
        )
    return sw
