"""The demo's drills: the flagship's pace and reach, partners registered, and every rating backed
by a service the rater received."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from renxing.auth.principal import SYSTEM
from renxing.db import transaction
from renxing.demo.build import build_demo
from renxing.drills import reach as drills
from renxing.drills.models import Activity
from renxing.evaluation import served as evaluation
from renxing.evaluation.models import Rating
from renxing.partners.models import Organization

UNTIL = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)


def test_demo_drills(engine):
    build_demo(engine, scale=0.05, until=UNTIL)
    with transaction(engine) as s:
        report = drills.coverage_report(s, SYSTEM, now=UNTIL)
        communities = sorted(report["communities"], key=lambda c: -c["residents"])
        flagship = communities[0]
        # About 140 activities a year and close to 90 % reached in the flagship; fewer elsewhere.
        assert 125 <= flagship["activities"] <= 145
        assert 0.8 <= flagship["reach"] <= 0.95
        assert all(c["activities"] < 70 and c["reach"] < flagship["reach"] for c in communities[1:])
        assert s.scalar(select(func.count()).select_from(Activity).where(Activity.starts_at > UNTIL)) > 0
        kinds = set(s.scalars(select(Organization.kind)))
        assert {"police", "fire_brigade", "clinic", "property_company", "social_org"} <= kinds
        ratings = list(s.scalars(select(Rating)))
        assert len(ratings) > 20
        # Teams are rated by the people they visit and by those who came to their activities.
        assert {"care_visit", "activity"} <= {r.basis for r in ratings if r.target_kind == "team"}
        for r in ratings[:: max(1, len(ratings) // 40)]:
            target = evaluation.target(s, r.target_kind, r.target_id)
            assert evaluation.service_basis(s, r.resident_id, target, UNTIL) is not None
