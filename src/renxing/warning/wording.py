"""The words a household receives: 【<colour>预警】headline, instruction and the acknowledgement
link, within one SMS-sized limit. Pure.

The link is never cut (without it a household cannot say it heard); the instruction is shortened
first, then the headline, each marked with an ellipsis.
"""

from renxing.i18n import _

LIMIT = 300
ELLIPSIS = "…"


def _cut(text: str, room: int) -> str:
    """``text`` in at most ``room`` characters, an ellipsis ending what was cut."""
    if len(text) <= room:
        return text
    return text[: room - 1] + ELLIPSIS if room > 0 else ""


def title(level_name: str, headline: str) -> str:
    """The first line: the colour in brackets, then the headline (an e-mail's subject)."""
    return _("【{level}预警】").format(level=level_name) + headline


def message(level_name: str, headline: str, instruction: str | None, link: str, *, limit: int = LIMIT) -> str:
    """The whole text, at most ``limit`` characters unless the link alone is longer (never cut)."""
    head = _("【{level}预警】").format(level=level_name)
    tail = _("收到请点：{link}").format(link=link)
    room = limit - len(head) - len(tail) - 1  # the space before the link
    shown = _cut(headline.strip(), room)
    text = head + shown
    body = (instruction or "").strip()
    body_room = room - len(shown) - 1
    if body and body_room > 0:
        text += " " + _cut(body, body_room)
    return text + " " + tail
