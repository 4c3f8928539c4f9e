"""The one writer of report rows (intake's and the demo's): many reports per call, ids in the
order given, schedules and followers with them, timelines in time order across the batch, and
the caller's own rows written once the ids are known."""

from datetime import timedelta

from sqlalchemy import func, select

from renxing.db import transaction
from renxing.events.intake import ReportRows, write_reports
from renxing.events.models import Report, ReportEvent, ReportFollower
from tests.kit.events_world import T0


def _columns(report: Report) -> dict:
    skip = ("id", "token", "report_id")  # report_id: the schedule row's key, set by the writer
    return {c.key: getattr(report, c.key) for c in Report.__table__.columns if c.key not in skip}


def _step(at, action: str, note: str | None = None, data: dict | None = None) -> dict:
    return {
        "at": at,
        "actor_user_id": None,
        "actor_label": "系统",
        "action": action,
        "from_state": "assigned",
        "to_state": "assigned",
        "note": note,
        "data": data,
    }


def test_a_batch_is_written_in_order_with_timelines_in_time_order(ev):
    with transaction(ev.engine) as s:
        template = _columns(s.get(Report, ev.submit("resident1")))
        before = s.scalar(select(func.count()).select_from(ReportEvent))
        hour = timedelta(hours=1)
        batch = [
            ReportRows({**template, "token": "a"}, [_step(T0, "submit"), _step(T0 + 2 * hour, "accept")]),
            ReportRows(
                {**template, "token": "b", "escalation_level": 2, "escalated_to_label": "支部书记"},
                [_step(T0 + hour, "submit")],
            ),
            ReportRows(
                {**template, "token": "c", "escalation_level": None},
                [_step(T0 + hour / 2, "submit"), _step(T0 + 3 * hour, "merged_in", data={"from": None})],
                followers=[{"user_id": ev.uid("resident1"), "reason": "reporter", "since": T0}],
            ),
        ]
        seen: list[list[int]] = []

        def name_the_duplicate(ids: list[int]) -> None:
            # Once the ids are known and before the timelines are written, a row may name another report.
            seen.append(list(ids))
            batch[2].timeline[1]["data"] = {"from": ids[0]}

        ids = write_reports(s, batch, also=name_the_duplicate)
    assert seen == [ids] and ids == sorted(ids) and len(set(ids)) == 3
    with transaction(ev.engine) as s:
        reports = {r.token: r for r in s.scalars(select(Report).where(Report.id.in_(ids)))}
        steps = list(s.scalars(select(ReportEvent).where(ReportEvent.report_id.in_(ids)).order_by(ReportEvent.id)))
        followers = list(s.scalars(select(ReportFollower).where(ReportFollower.report_id.in_(ids))))
        after = s.scalar(select(func.count()).select_from(ReportEvent))
    assert [reports[t].id for t in "abc"] == ids
    assert (reports["b"].escalation_level, reports["b"].escalated_to_label) == (2, "支部书记")
    assert reports["c"].escalation_level == 0  # the schedule row's default
    assert after - before == 5
    assert [e.at for e in steps] == sorted(e.at for e in steps)  # ids read in time order
    assert [(e.report_id, e.action) for e in steps] == [
        (ids[0], "submit"),
        (ids[2], "submit"),
        (ids[1], "submit"),
        (ids[0], "accept"),
        (ids[2], "merged_in"),
    ]
    assert steps[-1].data == {"from": ids[0]}
    assert [(f.report_id, f.user_id) for f in followers] == [(ids[2], ev.uid("resident1"))]


def test_an_empty_batch_writes_nothing(ev):
    def never(ids: list[int]) -> None:
        raise AssertionError(ids)

    with transaction(ev.engine) as s:
        assert write_reports(s, [], also=never) == []
        assert s.scalar(select(func.count()).select_from(Report)) == 0
