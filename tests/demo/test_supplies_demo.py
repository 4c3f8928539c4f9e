"""The demo's cloud warehouse: points in every community, the flagship's four partner sites under
agreements in force (one ending soon, another partner's lapsed), balances equal to the ledger, lots
near expiry and one expired, partner1 seeing only its supermarket, water binding at one to three
days for the evacuees of the flagship's scenario and a three-day allocation short of water only,
and the same seed giving the same ledger."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from renxing.auth.models import User
from renxing.auth.service import principal_for
from renxing.db import transaction, utcnow
from renxing.demo import supplies as demo_supplies
from renxing.demo.build import build_demo
from renxing.errors import Invalid
from renxing.grid.models import GridUnit, Household, Level
from renxing.partners.models import Organization
from renxing.people.models import Resident
from renxing.space.models import EvacScenario, Shelter
from renxing.supplies import allocating, check, days
from renxing.supplies.access import local_day, narrow
from renxing.supplies.drawing import agreement_for_draw, agreements_in_force
from renxing.supplies.models import (
    Agreement,
    AgreementLine,
    Balance,
    MinLevel,
    Movement,
    StockCount,
    StoragePoint,
    SupplyItem,
    Transfer,
)

SCALE = 0.03
PARTNER_KINDS = {"school", "enterprise", "property_company", "clinic"}


def _flagship(s) -> GridUnit:
    communities = s.scalars(select(GridUnit).where(GridUnit.level == Level.community.value)).all()
    return max(
        communities,
        key=lambda c: s.scalar(select(func.count(Resident.id)).where(Resident.path.startswith(c.path))),
    )


# One database: the demo build runs on both in test_build.py, and the warehouse's rules are tested on
# both in tests/supplies; a second build here would only double the minutes.
@pytest.mark.parametrize("backend_engine", ["sqlite"], indirect=True)
def test_demo_cloud_warehouse(engine):
    until = utcnow() - timedelta(minutes=30)
    build_demo(engine, scale=SCALE, until=until)
    with transaction(engine) as s:
        today = local_day(utcnow())
        flagship = _flagship(s)
        points = s.scalars(select(StoragePoint).order_by(StoragePoint.id)).all()
        held = Counter()
        for b in s.scalars(select(Balance)):
            held[b.point_id] += b.quantity

        # Every community: its store, one store per open shelter, kits counted per building.
        for c in s.scalars(select(GridUnit).where(GridUnit.level == Level.community.value)):
            kinds = Counter(p.kind for p in points if p.unit_id == c.id)
            open_shelters = s.scalar(
                select(func.count(Shelter.id)).where(Shelter.unit_id == c.id, Shelter.status == "open")
            )
            assert kinds["community_store"] == 1 and kinds["shelter_store"] == open_shelters > 0
            assert kinds["household_kits"] >= 1
        for p in points:
            assert held[p.id] > 0, p.name
            if p.kind == "household_kits":
                building = s.get(GridUnit, p.building_id)
                assert p.path == building.path
                assert p.households == s.scalar(
                    select(func.count(Household.id)).where(Household.building_id == p.building_id)
                )

        # The flagship's four partner sites, each under an agreement in force with lines at the site.
        sites = [p for p in points if p.unit_id == flagship.id and p.kind == "partner_site"]
        orgs = {p.id: s.get(Organization, p.org_id) for p in sites}
        in_force = {p.id: agreements_in_force(s, p.org_id, today) for p in sites}
        serving = [p for p in sites if in_force[p.id]]
        assert {orgs[p.id].kind for p in serving} == PARTNER_KINDS and len(serving) == 4
        assert {"桂花小学", "苏果社区超市"} <= {orgs[p.id].name for p in serving}
        for p in serving:
            (agreement,) = in_force[p.id]
            lines = s.scalars(select(AgreementLine).where(AgreementLine.agreement_id == agreement.id)).all()
            assert lines and {line.point_id for line in lines} == {p.id}
            assert len(agreement.contact_chain) in (2, 3) and agreement.activation
        ending = [a for p in serving for a in in_force[p.id] if a.valid_until <= today + timedelta(days=30)]
        assert len(ending) == 1
        # A lapsed agreement of another partner: its site cannot be drawn on.
        (lapsed,) = s.scalars(select(Agreement).where(Agreement.valid_until < today)).all()
        lapsed_site = next(p for p in sites if p.org_id == lapsed.org_id)
        for named in (lapsed.id, None):
            with pytest.raises(Invalid):
                agreement_for_draw(s, lapsed_site, today, named)

        # The ledger: balances equal its sums, every kind of entry, truthful times.
        assert check.check(s).clean
        kinds = set(s.scalars(select(Movement.kind).distinct()))
        assert {"receipt", "issue", "transfer_out", "transfer_in", "adjustment", "write_off"} <= kinds
        assert s.scalar(select(func.count(Transfer.id)).where(Transfer.status == "in_transit")) >= 1
        assert s.scalar(select(func.max(StockCount.adjustments))) > 0
        times = s.execute(select(Movement.occurred_at, Movement.recorded_at)).all()
        assert all(o <= r <= utcnow() for o, r in times)
        assert min(o for o, _r in times) < utcnow() - timedelta(days=300)
        assert any(r - o > timedelta(days=1) for o, r in times)  # entered late after an outage
        store = next(p for p in points if p.unit_id == flagship.id and p.kind == "community_store")
        minimums = s.scalars(select(MinLevel).where(MinLevel.point_id == store.id)).all()
        assert len(minimums) >= 3 and any(m.below_since is not None for m in minimums)

        # Lots near expiry (60 days) and one expired, still on the shelf.
        lots = [b for b in s.scalars(select(Balance).where(Balance.quantity > 0)) if b.expiry is not None]
        assert len([b for b in lots if today <= b.expiry <= today + timedelta(days=60)]) >= 2
        assert len([b for b in lots if b.expiry < today]) == 1

        # partner1 speaks for the supermarket and sees its site only.
        partner = principal_for(s, s.scalar(select(User).where(User.username == "partner1")))
        seen = s.scalars(narrow(s, partner, select(StoragePoint))).all()
        assert [orgs[p.id].name for p in seen] == ["苏果社区超市"]

        # The flagship's scenario it is stocked for: water runs out first, after one to three days,
        # and a three-day allocation falls short of water only.
        people, scenario = demo_supplies.sizing(s, flagship)
        assert scenario and people > 0
        secretary = principal_for(s, s.scalar(select(User).where(User.username == "secretary")))
        scenario_id = s.scalar(
            select(EvacScenario.id).where(EvacScenario.unit_id == flagship.id, EvacScenario.name == scenario)
        )
        shown = days.autonomy_of(s, secretary, flagship.id, scenario_id)["scenario"]["autonomy"]
        assert shown["binding_item"]["code"] == "water" and 1 <= shown["days"] <= 3, shown
        assert shown["items"][1]["days"] >= 1.5 * shown["days"]  # clearly binding
        run = allocating.propose(s, secretary, flagship.id, scenario_id, 3)
        assert run.shortfall > 0 and {f["item"]["code"] for f in run.result["shortfalls"]} == {"water"}

    _same_seed_same_ledger(engine, until)


def _snapshot(s) -> list[tuple]:
    return sorted(
        s.execute(
            select(
                StoragePoint.name,
                SupplyItem.code,
                Movement.kind,
                Movement.lot,
                Movement.expiry,
                Movement.quantity,
                Movement.occurred_at,
                Movement.recorded_at,
                Movement.note,
            )
            .join(StoragePoint, StoragePoint.id == Movement.point_id)
            .join(SupplyItem, SupplyItem.id == Movement.item_id)
        ).all()
    )


def _same_seed_same_ledger(engine, until) -> None:
    """Played again on the same street (then rolled back): the same seed writes the same ledger."""
    with transaction(engine) as s:
        built = _snapshot(s)
        for model in (Movement, Balance, Transfer, StockCount, MinLevel, AgreementLine, Agreement, StoragePoint):
            s.execute(delete(model))
        demo_supplies.add_supplies(s, seed=2023, until=until)
        again = _snapshot(s)
        s.rollback()
    assert len(built) > 100 and again == built
