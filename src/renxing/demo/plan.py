"""What the demo street is made of: five communities, their compounds, housing and people. Pure data.

The flagship is modelled on the paper's Nanjing G community: a 1980s estate of six-storey
walk-ups, about 9,600 residents, over 30% aged 60 and above. The other four differ in
housing and age on purpose, so that comparisons between communities mean something.
"""

from dataclasses import dataclass

from renxing.demo.geo import Rect
from renxing.demo.population import Demography
from renxing.i18n import _l

STREET_CODE = "QX"
STREET_NAME = "鼓楼区清溪路街道"
HOUSEHOLDS_PER_AREA = 400  # a grid worker's area (网格) holds some 300-500 households


@dataclass(frozen=True)
class BuildingType:
    code: str  # stored as the kind of compounds and buildings
    label: str
    floors: tuple[int, int]
    units: tuple[int, int]  # 单元 per building
    per_floor: int  # households per floor in each unit
    structures: tuple[str, ...]
    elevator: bool
    years: tuple[int, int]
    unit_width: float  # metres of facade per unit
    depth: float
    spacing: float  # metres between rows: sunlight spacing grows with height
    occupancy: float  # share of flats lived in


@dataclass(frozen=True)
class CompoundPlan:
    name: str
    road: str
    gate_no: int  # the compound's street number: 桂花路18号
    housing: BuildingType
    people: Demography
    share: float  # of the community's residents


@dataclass(frozen=True)
class CommunityPlan:
    code: str
    name: str
    kind: str
    residents: int  # at scale 1
    block: Rect  # local metres
    angle: float  # how the buildings are turned, degrees
    compounds: tuple[CompoundPlan, ...]


KIND_LABELS = {
    "old_estate": _l("老旧小区"),
    "highrise": _l("高层商品房"),
    "mixed": _l("新老混合"),
    "resettlement": _l("安置房"),
    "riverside": _l("滨河单位大院"),
}

WALKUP_1980S = BuildingType(
    "walkup_1980s", "多层砖混", (6, 6), (2, 4), 2, ("砖混",), False, (1982, 1989), 13.0, 11.0, 22.0, 0.94
)
WALKUP_1990S = BuildingType(
    "walkup_1990s", "多层", (6, 7), (2, 3), 2, ("砖混", "框架"), False, (1993, 1999), 13.0, 12.0, 22.0, 0.93
)
HIGHRISE_2010S = BuildingType(
    "highrise_2010s", "高层", (18, 33), (2, 3), 2, ("剪力墙",), True, (2008, 2016), 16.0, 17.0, 45.0, 0.88
)
MIDRISE_2010S = BuildingType(
    "midrise_2010s", "小高层/高层", (11, 26), (2, 3), 2, ("框架-剪力墙",), True, (2013, 2017), 15.0, 16.0, 38.0, 0.90
)
RESETTLEMENT_2000S = BuildingType(
    "resettlement_2000s",
    "小高层安置房",
    (11, 18),
    (2, 3),
    2,
    ("框架-剪力墙",),
    True,
    (2006, 2012),
    14.0,
    14.0,
    30.0,
    0.95,
)
WORKUNIT_1960S = BuildingType(
    "workunit_1960s", "单位宿舍楼", (3, 5), (1, 3), 2, ("砖混", "砖木"), False, (1958, 1979), 12.0, 10.0, 18.0, 0.92
)

OLD_ESTATE = Demography(
    households={
        "elder_single": 0.09,
        "elder_couple": 0.23,
        "elder_with_child": 0.12,
        "three_gen": 0.16,
        "nuclear": 0.17,
        "young_couple": 0.04,
        "middle_couple": 0.10,
        "single_adult": 0.05,
        "renters": 0.04,
    },
    elder_mean=12.0,
    migrant=0.10,
    hukou_elsewhere=0.04,
    elder_householder=0.65,
    party=(0.05, 0.08, 0.15),
    health=1.1,
)
YOUNG_FAMILIES = Demography(
    households={
        "elder_single": 0.015,
        "elder_couple": 0.04,
        "elder_with_child": 0.03,
        "three_gen": 0.17,
        "nuclear": 0.40,
        "young_couple": 0.14,
        "middle_couple": 0.08,
        "single_adult": 0.08,
        "renters": 0.045,
    },
    elder_mean=9.0,
    migrant=0.15,
    hukou_elsewhere=0.20,
    elder_householder=0.2,
    party=(0.07, 0.09, 0.12),
    health=0.8,
)
AGING_1990S = Demography(
    households={
        "elder_single": 0.07,
        "elder_couple": 0.16,
        "elder_with_child": 0.09,
        "three_gen": 0.14,
        "nuclear": 0.25,
        "young_couple": 0.06,
        "middle_couple": 0.12,
        "single_adult": 0.07,
        "renters": 0.04,
    },
    elder_mean=10.0,
    migrant=0.10,
    hukou_elsewhere=0.06,
    elder_householder=0.5,
    party=(0.05, 0.08, 0.13),
    health=1.0,
)
RESETTLED = Demography(
    households={
        "elder_single": 0.07,
        "elder_couple": 0.14,
        "elder_with_child": 0.10,
        "three_gen": 0.20,
        "nuclear": 0.20,
        "young_couple": 0.05,
        "middle_couple": 0.10,
        "single_adult": 0.08,
        "renters": 0.06,
    },
    elder_mean=10.0,
    migrant=0.20,
    hukou_elsewhere=0.03,
    elder_householder=0.6,
    party=(0.04, 0.07, 0.10),
    health=1.3,
)
WORKUNIT_OLD = Demography(
    households={
        "elder_single": 0.16,
        "elder_couple": 0.24,
        "elder_with_child": 0.10,
        "three_gen": 0.08,
        "nuclear": 0.12,
        "young_couple": 0.04,
        "middle_couple": 0.10,
        "single_adult": 0.10,
        "renters": 0.06,
    },
    elder_mean=13.0,
    migrant=0.15,
    hukou_elsewhere=0.03,
    elder_householder=0.7,
    party=(0.05, 0.10, 0.22),
    health=1.2,
)

COMMUNITIES: tuple[CommunityPlan, ...] = (
    CommunityPlan(
        "GH",
        "桂花园社区",
        "old_estate",
        9600,
        Rect(-808.0, 14.0, -12.0, 508.0),
        4.0,
        (
            CompoundPlan("桂花园一村", "桂花路", 18, WALKUP_1980S, OLD_ESTATE, 1 / 3),
            CompoundPlan("桂花园二村", "桂花路", 36, WALKUP_1980S, OLD_ESTATE, 1 / 3),
            CompoundPlan("桂花园三村", "清溪路", 101, WALKUP_1980S, OLD_ESTATE, 1 / 3),
        ),
    ),
    CommunityPlan(
        "JX",
        "锦绣华庭社区",
        "highrise",
        9000,
        Rect(12.0, 14.0, 838.0, 508.0),
        -8.0,
        (
            CompoundPlan("锦绣华庭一期", "银杏路", 88, HIGHRISE_2010S, YOUNG_FAMILIES, 0.35),
            CompoundPlan("锦绣华庭二期", "凤栖路", 199, HIGHRISE_2010S, YOUNG_FAMILIES, 0.35),
            CompoundPlan("锦绣华庭三期", "清溪路", 266, HIGHRISE_2010S, YOUNG_FAMILIES, 0.30),
        ),
    ),
    CommunityPlan(
        "YX",
        "银杏里社区",
        "mixed",
        7500,
        Rect(-808.0, -518.0, -262.0, -14.0),
        0.0,
        (
            CompoundPlan("银杏里小区", "安康路", 12, WALKUP_1990S, AGING_1990S, 0.55),
            CompoundPlan("银杏新苑", "安康路", 58, MIDRISE_2010S, YOUNG_FAMILIES, 0.45),
        ),
    ),
    CommunityPlan(
        "AK",
        "安康苑社区",
        "resettlement",
        6000,
        Rect(-238.0, -518.0, 288.0, -14.0),
        2.0,
        (
            CompoundPlan("安康苑西区", "安康路", 100, RESETTLEMENT_2000S, RESETTLED, 0.5),
            CompoundPlan("安康苑东区", "锦绣路", 9, RESETTLEMENT_2000S, RESETTLED, 0.5),
        ),
    ),
    CommunityPlan(
        # The park along the river takes the south of this block.
        "BH",
        "滨河社区",
        "riverside",
        5000,
        Rect(312.0, -390.0, 842.0, -14.0),
        -12.0,
        (
            CompoundPlan("电机厂宿舍", "锦绣路", 27, WORKUNIT_1960S, WORKUNIT_OLD, 0.4),
            CompoundPlan("纺织厂宿舍", "清溪路", 318, WORKUNIT_1960S, WORKUNIT_OLD, 0.3),
            CompoundPlan("滨河新村", "滨河路", 66, WORKUNIT_1960S, WORKUNIT_OLD, 0.3),
        ),
    ),
)
FLAGSHIP = COMMUNITIES[0]

HOUSING_LABELS = {
    t.code: t.label
    for t in (WALKUP_1980S, WALKUP_1990S, HIGHRISE_2010S, MIDRISE_2010S, RESETTLEMENT_2000S, WORKUNIT_1960S)
}
