"""How personal data is shown to someone whose role does not need it in the clear. Pure."""


def mask_id_number(value: str | None) -> str | None:
    # 3201**********1234: region prefix and last four stay, enough to tell people apart.
    if not value:
        return value
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else value[:2] + "****"


def mask_name(value: str | None) -> str | None:
    """张三丰 → 张*丰, 李四 → 李*; used where even names must not show (public pages)."""
    if not value:
        return value
    if len(value) <= 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


HIDDEN = "***"
