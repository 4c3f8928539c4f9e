"""The catalogue the warehouse starts with: common emergency items and the per-person needs that
size days of autonomy and allocation demand, each need with its source.

Migration 0012 inserts a frozen copy of these into every new database. :func:`install_defaults`
puts back whatever is missing (after a wipe in tests) without touching rows staff have changed.
"""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from renxing.supplies.models import ItemNeed, SupplyItem

SPHERE = "Sphere Handbook 2018"
# (code, name, English name, category, unit, pack unit, pack size, shelf life in days, lots kept)
ITEMS = [
    ("water", "饮用水", "Drinking water", "water", "L", "箱", 12, 730, True),
    ("food", "方便食品", "Ready-to-eat food", "food", "份", "箱", 24, 365, True),
    ("blanket", "棉被", "Blanket", "shelter", "条", None, None, None, False),
    ("tent", "救灾帐篷", "Family tent", "shelter", "顶", None, None, None, False),
    ("mask", "医用口罩", "Medical mask", "hygiene", "只", "盒", 50, 1095, True),
    ("first_aid", "急救包", "First-aid kit", "medical", "个", None, None, 1825, True),
    ("medicine", "常用药品包", "Common medicines pack", "medical", "份", None, None, 730, True),
    ("torch", "手电筒", "Torch", "lighting", "只", None, None, None, False),
    ("battery", "电池", "Battery", "lighting", "节", "盒", 20, 1825, True),
    ("generator", "发电机", "Generator", "power", "台", None, None, None, False),
    ("life_jacket", "救生衣", "Life jacket", "rescue", "件", None, None, None, False),
    ("stretcher", "担架", "Stretcher", "rescue", "副", None, None, None, False),
    ("infant_formula", "婴幼儿配方奶粉", "Infant formula", "food", "罐", None, None, 540, True),
    ("adult_diaper", "成人纸尿裤", "Adult diapers", "hygiene", "片", "包", 10, 1095, True),
]
# (item, group, quantity per person, per day?, source)
NEEDS = [
    (
        "water",
        "everyone",
        15.0,
        True,
        f"{SPHERE}, WASH water supply standard 2.1: at least 15 L per person per day for drinking, cooking and "
        "hygiene, of which 2.5–3 L to drink; set 3 where tap water still runs",
    ),
    (
        "food",
        "everyone",
        3.0,
        True,
        f"{SPHERE}, food security standard 6.1: 2,100 kcal per person per day, about three ready-to-eat portions",
    ),
    (
        "blanket",
        "everyone",
        1.0,
        False,
        f"{SPHERE}, shelter standard 4: at least one blanket per person (thermal comfort)",
    ),
    (
        "tent",
        "everyone",
        0.2,
        False,
        f"{SPHERE}, shelter standard 3: 3.5 m² covered space per person, a family tent for five",
    ),
    ("mask", "everyone", 1.0, True, "社区防疫要求：集中安置每人每日一只"),
    ("first_aid", "everyone", 0.02, False, "GB 21734-2008 应急避难场所：每 50 人一个急救包（社区配置）"),
    ("medicine", "vulnerable", 1.0, True, "慢病与特殊需要居民每人每日一份常用药"),
    ("torch", "everyone", 0.3, False, "每户一只手电（户均约 3 人）"),
    ("infant_formula", "infants", 0.15, True, "婴幼儿每日约 135 克配方奶粉，一罐 900 克"),
    ("adult_diaper", "bedridden", 6.0, True, "卧床居民每人每日约 6 片"),
    ("stretcher", "bedridden", 0.5, False, "每两名卧床居民一副担架（转运）"),
]

COLUMNS = ("code", "name", "name_en", "category", "unit", "pack_unit", "pack_size", "shelf_life_days", "lot_tracked")


def install_defaults(session: Session) -> None:
    """Add the catalogue items and needs that are missing (an item is known by its code)."""
    have = dict(session.execute(select(SupplyItem.code, SupplyItem.id)).all())
    seeded = datetime(2026, 12, 3, tzinfo=UTC)
    for row in ITEMS:
        if row[0] not in have:
            item = SupplyItem(**dict(zip(COLUMNS, row, strict=True)), active=True, created_at=seeded)
            session.add(item)
            session.flush()
            have[item.code] = item.id
    with_needs = set(session.scalars(select(ItemNeed.item_id)))
    for code, group, quantity, daily, source in NEEDS:
        if have[code] not in with_needs:
            session.add(ItemNeed(item_id=have[code], group=group, quantity=quantity, daily=daily, source=source))
    session.flush()
