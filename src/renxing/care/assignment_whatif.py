"""What if more carers joined: the optimum of ``care.assignment`` before and after adding
hypothetical carers of a skill in an area. Pure: no database, no web."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from renxing.care.assignment import Assignment, Carer, Problem, solve
from renxing.errors import Collector
from renxing.i18n import _

Id = Hashable


@dataclass(slots=True)
class WhatIf:
    """Coverage before and after adding hypothetical carers (ids ``("new", 1)``, ``("new", 2)``…)."""

    before: Assignment
    after: Assignment
    added: list[Carer]
    newly_covered: list[Id]  # uncovered before, covered after
    no_longer_covered: list[Id]  # covered before, not after (the optimum may swap equals)

    @property
    def gain(self) -> int:
        return self.after.covered - self.before.covered

    @property
    def summary(self) -> str:
        b, a = self.before, self.after
        return _(
            "覆盖 {covered}/{total}（{coverage:.0%}）→ {covered2}/{total2}（{coverage2:.0%}），新增覆盖 {len} 人"
        ).format(
            covered=b.covered,
            total=b.total,
            coverage=b.coverage,
            covered2=a.covered,
            total2=a.total,
            coverage2=a.coverage,
            len=len(self.newly_covered),
        )


def what_if(
    base: Problem,
    extra_carers: int = 1,
    *,
    skill: str | Iterable[str] | None = None,
    area: Id | None = None,
    position: tuple[float, float] | None = None,
    capacity: int = 3,
    kind: str = "volunteer",
    before: Assignment | None = None,
) -> WhatIf:
    """Coverage if ``extra_carers`` more carers with ``skill`` (one or several) joined in ``area``.

    Each new carer has ``capacity`` and stands at ``position`` (metres on the problem's plane) or, when
    not given, at the mean position of the vulnerable residents of ``area`` (of all residents when
    ``area`` is None or has none). They belong to ``area`` but to no building. A distance matrix
    cannot cover them (422 on ``distance``); a distance callback is called with them too (ids
    ``("new", 1)``, ``("new", 2)``…). ``before`` skips re-solving the base problem when the caller
    already has it.
    """
    errors = Collector()
    if extra_carers < 0 or extra_carers > 10_000:
        errors.add("extra_carers", _("新增人数须在 0–10000"), value=extra_carers)
    if capacity < 1:
        errors.add("capacity", _("每人至少照护 1 人"), value=capacity)
    if isinstance(base.distance, np.ndarray):
        errors.add("distance", _("假设分析不支持固定距离矩阵"))
    errors.raise_if_any(_("假设分析输入有误"))
    skills = frozenset([skill] if isinstance(skill, str) else (skill or ()))
    if position is None:
        pool = [r for r in base.residents if area is None or r.area_id == area] or list(base.residents)
        position = (sum(r.x for r in pool) / len(pool), sum(r.y for r in pool) / len(pool)) if pool else (0.0, 0.0)
    added = [
        Carer(("new", i + 1), position[0], position[1], None, area, skills, capacity, kind) for i in range(extra_carers)
    ]
    before = before or solve(base)
    after = solve(replace(base, carers=[*base.carers, *added]))
    was = {p.resident_id for p in before.pairs}
    now = {p.resident_id for p in after.pairs}
    order = [r.id for r in base.residents]
    return WhatIf(
        before,
        after,
        added,
        [i for i in order if i in now and i not in was],
        [i for i in order if i in was and i not in now],
    )
