"""Households and residents of the demo street: families, ages, ID numbers, vulnerability. Pure.

Every draw comes from the ``random.Random`` passed in, and ages are counted to the fixed
:data:`REFERENCE_DATE`, so the same seed always yields the same people.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from renxing.demo import names
from renxing.people import vulnerability
from renxing.people.idcard import make_id_number

# Ages are plausible as of this day, whatever the day the demo is built.
REFERENCE_DATE = date(2026, 1, 1)

HOUSEHOLD_KINDS = (
    "elder_single",  # 独居老人
    "elder_couple",  # 空巢老人夫妇
    "elder_with_child",  # 老人与成年子女
    "three_gen",  # 三代同堂
    "nuclear",  # 夫妻与子女
    "young_couple",  # 年轻夫妻
    "middle_couple",  # 中年夫妻（子女已离家）
    "single_adult",  # 单身成年人
    "renters",  # 合租
)

DISABILITY_KINDS = ("肢体", "视力", "听力", "言语", "智力", "精神", "多重")
_DISABILITY_WEIGHTS = {
    "child": (25, 5, 10, 10, 35, 0, 15),
    "adult": (45, 13, 15, 2, 6, 12, 7),
    "elder": (40, 18, 28, 2, 2, 3, 7),
}
_GRADE_CUM = tuple(accumulate((10, 20, 30, 40)))
CHRONIC = ("高血压", "糖尿病", "冠心病", "慢阻肺", "脑卒中后遗症", "慢性肾病", "阿尔茨海默病", "帕金森病", "哮喘")
_CHRONIC_CUM = tuple(accumulate((45, 20, 12, 7, 5, 3, 4, 2, 2)))


@dataclass(frozen=True)
class Demography:
    """How the people of one compound live: household mix, age, origin, health, party."""

    households: dict[str, float]
    elder_mean: float = 11.0  # mean years above 60 among the elderly
    migrant: float = 0.08  # share of working-age households registered in another province
    hukou_elsewhere: float = 0.05  # Nanjing people registered in another district
    elder_householder: float = 0.5  # in three generations, the grandparent holds the house
    party: tuple[float, float, float] = (0.05, 0.08, 0.13)  # adults 18-34, 35-59, 60+
    health: float = 1.0  # multiplies disability and chronic illness rates

    def __post_init__(self) -> None:
        unknown = set(self.households) - set(HOUSEHOLD_KINDS)
        if unknown:
            raise ValueError(f"unknown household kinds: {sorted(unknown)}")


@dataclass
class Member:
    relation: str
    age: int
    gender: str
    family: str  # surname
    living_alone: bool = False


@dataclass
class IdRegistry:
    """Hands out ID numbers and mobile numbers that never repeat within one build."""

    used_ids: set[tuple[str, date, int]] = field(default_factory=set)
    used_phones: set[str] = field(default_factory=set)

    def id_number(self, rng: random.Random, region: str, born: date, gender: str) -> str:
        parity = 1 if gender == "M" else 0
        while True:
            seq = rng.randrange(500) * 2 + parity
            key = (region, born, seq)
            if key not in self.used_ids:
                self.used_ids.add(key)
                return make_id_number(region, born, seq, gender)

    def phone(self, rng: random.Random) -> str:
        while True:
            p = names.mobile(rng)
            if p not in self.used_phones:
                self.used_phones.add(p)
                return p


def birth_date(rng: random.Random, age: int) -> date:
    """A birthday that makes the person exactly ``age`` on the reference date."""
    start = date(REFERENCE_DATE.year - age - 1, 1, 2)
    return start + timedelta(days=rng.randrange(364))


def elder_age(rng: random.Random, mean: float) -> int:
    return 60 + min(39, int(rng.expovariate(1 / mean)))


def _wife_age(rng: random.Random, husband: int) -> int:
    return max(20, husband - rng.choice((-1, 0, 1, 2, 2, 3, 3, 4, 5)))


def _children(rng: random.Random, mother_age: int, family: str, relation: str, weights=(60, 40)) -> list[Member]:
    kids = []
    for _ in range(rng.choices((1, 2), weights=weights)[0]):
        age = mother_age - rng.randint(23, 36)
        if age >= 0:
            kids.append(Member(relation, age, rng.choice("MF"), family))
    return kids


def household_members(rng: random.Random, kind: str, demo: Demography) -> list[Member]:
    """The people of one household, the householder (户主) first."""
    if kind == "elder_single":
        gender = "F" if rng.random() < 0.66 else "M"  # widows outnumber widowers
        return [Member("户主", elder_age(rng, demo.elder_mean + 2), gender, names.surname(rng), living_alone=True)]
    if kind == "elder_couple":
        h = elder_age(rng, demo.elder_mean)
        return [Member("户主", h, "M", names.surname(rng)), Member("配偶", _wife_age(rng, h), "F", names.surname(rng))]
    if kind == "elder_with_child":
        h = elder_age(rng, demo.elder_mean + 1)
        family = names.surname(rng)
        out = [Member("户主", h, "M", family), Member("配偶", _wife_age(rng, h), "F", names.surname(rng))]
        if rng.random() < 0.45:  # one of them has died
            out = [out[1]] if rng.random() < 0.7 else [out[0]]
            out[0].relation = "户主"
        youngest = min(m.age for m in out)
        child_family = family if out[0].gender == "M" or rng.random() < 0.5 else names.surname(rng)
        out.append(Member("子女", max(20, youngest - rng.randint(24, 34)), rng.choice("MF"), child_family))
        return out
    if kind in ("nuclear", "three_gen", "young_couple", "middle_couple"):
        lo, hi = {"nuclear": (28, 55), "three_gen": (28, 50), "young_couple": (23, 38), "middle_couple": (45, 66)}[kind]
        h = rng.randint(lo, hi)
        family, wife_family = names.surname(rng), names.surname(rng)
        husband = Member("户主", h, "M", family)
        wife = Member("配偶", _wife_age(rng, h), "F", wife_family)
        if kind in ("young_couple", "middle_couple"):
            return _couple(rng, husband, wife)
        kids = _children(rng, wife.age, family, "子女")
        if kind == "nuclear":
            return [husband, wife, *kids]
        # Three generations: paternal grandparents mostly, sometimes the wife's parents.
        maternal = rng.random() < 0.3
        elder_family = wife_family if maternal else family
        gp_age = (wife.age if maternal else h) + rng.randint(24, 32)
        grandparents = [
            Member("父母", gp_age, "M", elder_family),
            Member("父母", _wife_age(rng, gp_age), "F", names.surname(rng)),
        ]
        if rng.random() < 0.4:
            grandparents = [grandparents[1]] if rng.random() < 0.7 else [grandparents[0]]
        if rng.random() < demo.elder_householder:
            head, *rest = grandparents
            head.relation = "户主"
            for g in rest:
                g.relation = "配偶"
            husband.relation = "女婿" if maternal else "子女"
            wife.relation = "子女" if maternal else "儿媳"
            for k in kids:
                k.relation = "孙子女"
            return [head, *rest, husband, wife, *kids]
        return [husband, wife, *kids, *grandparents]
    if kind == "single_adult":
        return [Member("户主", rng.randint(20, 59), "M" if rng.random() < 0.56 else "F", names.surname(rng))]
    if kind == "renters":
        return [
            Member("户主" if i == 0 else "其他", rng.randint(20, 36), rng.choice("MF"), names.surname(rng))
            for i in range(rng.choice((2, 2, 3)))
        ]
    raise ValueError(f"unknown household kind {kind}")


def _couple(rng: random.Random, husband: Member, wife: Member) -> list[Member]:
    """Most couples register the husband as householder, some the wife."""
    if rng.random() < 0.8:
        return [husband, wife]
    wife.relation, husband.relation = "户主", "配偶"
    return [wife, husband]


def _migrant_share(kind: str, demo: Demography) -> float:
    if kind == "renters":
        return 0.9
    if kind == "single_adult":
        return min(0.85, demo.migrant * 3.5)
    if kind.startswith("elder"):
        return demo.migrant * 0.15
    if kind == "three_gen":
        return demo.migrant * 0.5
    return demo.migrant


def _pick(rng: random.Random, options: tuple[str, ...], weights: tuple[float, ...]) -> str:
    return rng.choices(options, weights=weights)[0]


def _disability(rng: random.Random, age: int, health: float) -> tuple[str | None, int | None]:
    p = 0.012 if age < 18 else 0.02 if age < 40 else 0.045 if age < 60 else 0.10 if age < 80 else 0.20
    if rng.random() >= p * health:
        return None, None
    group = "child" if age < 18 else "adult" if age < 60 else "elder"
    kind = _pick(rng, DISABILITY_KINDS, _DISABILITY_WEIGHTS[group])
    grade = rng.choices((1, 2, 3, 4), cum_weights=_GRADE_CUM)[0]
    return kind, grade


def _chronic(rng: random.Random, age: int, health: float) -> str | None:
    p = 0.02 if age < 40 else 0.14 if age < 60 else 0.33 if age < 70 else 0.46 if age < 80 else 0.56
    if rng.random() >= p * health:
        return None
    found: list[str] = []
    for _ in range(1 if rng.random() < 0.7 else 2):
        c = rng.choices(CHRONIC, cum_weights=_CHRONIC_CUM)[0]
        if c in ("阿尔茨海默病", "帕金森病") and age < 65:
            c = "高血压"
        if c not in found:
            found.append(c)
    return "、".join(found)


def _has_phone(rng: random.Random, age: int) -> bool:
    if age < 12:
        return False
    p = 0.6 if age < 18 else 0.98 if age < 75 else 0.8 if age < 85 else 0.55
    return rng.random() < p


def _party(rng: random.Random, age: int, demo: Demography) -> bool:
    if age < 18:
        return False
    young, middle, old = demo.party
    return rng.random() < (young if age < 35 else middle if age < 60 else old)


def residents_of(rng: random.Random, kind: str, demo: Demography, registry: IdRegistry) -> list[dict[str, Any]]:
    """Resident rows of one new household, without household, path or address yet.

    Those registered here get ``registered_address`` None: the caller fills in the flat's
    address once the household has one.
    """
    members = household_members(rng, kind, demo)
    migrant = rng.random() < _migrant_share(kind, demo)
    home = names.migrant_region(rng) if migrant else None
    has_infant = any(m.age < 3 for m in members)
    couple = sum(1 for m in members if m.relation in ("户主", "配偶")) == 2
    rows: list[dict[str, Any]] = []
    for m in members:
        born = birth_date(rng, m.age)
        if home is not None:
            region, registered, hukou_here = home[0], home[1], False
        else:
            region, registered = names.nanjing_region(rng, born.year)
            hukou_here = rng.random() >= demo.hukou_elsewhere
            registered = None if hukou_here else registered
        disability_kind, disability_grade = _disability(rng, m.age, demo.health)
        bedridden = (m.age >= 80 and rng.random() < 0.06 * demo.health) or (m.age >= 60 and rng.random() < 0.006)
        if disability_grade == 1 and disability_kind in ("肢体", "多重") and rng.random() < 0.35:
            bedridden = True
        chronic = _chronic(rng, m.age, demo.health)
        married = (couple and m.relation in ("户主", "配偶")) or m.relation in ("儿媳", "女婿")
        pregnant = m.gender == "F" and 22 <= m.age <= 40 and married and rng.random() < (0.01 if has_infant else 0.05)
        needs: list[str] = []
        if not bedridden and (
            (disability_kind in ("肢体", "多重") and (disability_grade or 4) <= 2 and rng.random() < 0.45)
            or (m.age >= 85 and rng.random() < 0.05)
        ):
            needs.append("wheelchair")
        if chronic and "慢阻肺" in chronic and rng.random() < 0.12:
            needs.append("oxygen")
        if chronic and "慢性肾病" in chronic and rng.random() < 0.12:
            needs.append("dialysis")
        special = ",".join(needs) or None
        tag_list = vulnerability.tags(
            birth_date=born,
            living_alone=m.living_alone,
            disability_kind=disability_kind,
            bedridden=bedridden,
            chronic_illness=chronic,
            pregnant=pregnant,
            special_needs=special,
            today=REFERENCE_DATE,
        )
        rows.append(
            {
                "name": names.full_name(rng, born.year, m.gender, m.family),
                "gender": m.gender,
                "birth_date": born,
                "id_number": registry.id_number(rng, region, born, m.gender),
                "phone": registry.phone(rng) if _has_phone(rng, m.age) else None,
                "relation": m.relation,
                "hukou_here": hukou_here,
                # 人户分离: a few registered here live elsewhere, never someone we count as living alone.
                "lives_here": m.living_alone or rng.random() >= 0.03,
                "registered_address": registered,
                "living_alone": m.living_alone,
                "disability_kind": disability_kind,
                "disability_grade": disability_grade,
                "bedridden": bedridden,
                "chronic_illness": chronic,
                "pregnant": pregnant,
                "special_needs": special,
                "mobility": vulnerability.default_mobility(tag_list, special),
                "emergency_contact": None,
                "emergency_phone": None,
                "party_member": _party(rng, m.age, demo),
                "notes": None,
            }
        )
    _emergency_contacts(rng, members, rows, registry)
    return rows


def _emergency_contacts(
    rng: random.Random, members: list[Member], rows: list[dict[str, Any]], registry: IdRegistry
) -> None:
    """Every elderly person gets a child to call: one at home if there is one, else one living elsewhere."""
    elder_relations = {"户主", "配偶"} if members[0].age >= 60 else {"父母"}
    child_relations = {"子女"} if members[0].age >= 60 else {"户主", "配偶"}
    home_child = next(
        (r for m, r in zip(members, rows, strict=True) if m.relation in child_relations and m.age >= 20 and r["phone"]),
        None,
    )
    away_child: tuple[str, str] | None = None
    for m, r in zip(members, rows, strict=True):
        if m.age < 60:
            continue
        if home_child is not None and m.relation in elder_relations:
            r["emergency_contact"], r["emergency_phone"] = home_child["name"], home_child["phone"]
            continue
        if away_child is None:
            father = next((x for x in members if x.age >= 60 and x.gender == "M"), None)
            child_year = r["birth_date"].year + rng.randint(24, 34)
            family = father.family if father else names.surname(rng)
            away_child = (names.full_name(rng, child_year, rng.choice("MF"), family), registry.phone(rng))
        r["emergency_contact"], r["emergency_phone"] = away_child
